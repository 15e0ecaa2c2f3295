/* Equal 64-bit keys found in one pass over an open-addressing table (hashtable.h), with no sort:
 * pairs of positions with equal keys, numbers by first appearance, the first of each value in its
 * group, and a set grown batch by batch (its table kept by the caller). */
#include "native.h"
#include "hashtable.h"

#include <stdlib.h>

PyObject *native_pairs(PyObject *self, PyObject *args) {
    PyObject *o_keys, *o_out;
    Buf bufs[2] = {{{0}}};
    Buf *keys = &bufs[0], *out = &bufs[1];
    uint64_t *slot_key = NULL;
    int32_t *slot_first = NULL, *slot_last = NULL;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OO", &o_keys, &o_out))
        return NULL;
    if (buf_get(o_keys, keys, 'u', 8, 0, "keys") < 0 || buf_get(o_out, out, 'i', 8, 1, "out") < 0)
        goto done;
    if (out->len < 2 * keys->len || keys->len > INT32_MAX) {
        fail("pairs: out must hold two pairs per key, and positions fit 31 bits");
        goto done;
    }
    int bits = table_bits(keys->len); /* 16 bytes a slot, 24-48 a key */
    int64_t slots = (int64_t)1 << bits, found = 0;
    slot_key = malloc(sizeof(uint64_t) * slots);
    slot_first = malloc(sizeof(int32_t) * slots);
    slot_last = malloc(sizeof(int32_t) * slots);
    if (slot_key == NULL || slot_first == NULL || slot_last == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    const uint64_t *key = keys->view.buf;
    int64_t *pair = out->view.buf;
    for (int64_t s = 0; s < slots; s++)
        slot_first[s] = -1;
    for (int64_t i = 0; i < keys->len; i++) {
        int64_t slot = find_slot_u64_i32(slot_key, slot_first, key[i], bits);
        int32_t first = slot_first[slot];
        if (first < 0) {
            slot_first[slot] = slot_last[slot] = (int32_t)i;
            slot_key[slot] = key[i];
            continue;
        }
        pair[found++] = ((int64_t)first << 32) | i;
        if (slot_last[slot] != first)
            pair[found++] = ((int64_t)slot_last[slot] << 32) | i;
        slot_last[slot] = (int32_t)i;
    }
    Py_END_ALLOW_THREADS
    result = PyLong_FromLongLong(found);
done:
    free(slot_key);
    free(slot_first);
    free(slot_last);
    buf_release(bufs, 2);
    return result;
}

PyObject *native_first_ids(PyObject *self, PyObject *args) {
    PyObject *o_values, *o_item, *o_first;
    Buf bufs[3] = {{{0}}};
    Buf *values = &bufs[0], *item = &bufs[1], *first = &bufs[2];
    uint64_t *slot_value = NULL;
    int64_t *slot_item = NULL;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OOO", &o_values, &o_item, &o_first))
        return NULL;
    if (buf_get(o_values, values, 'u', 8, 0, "values") < 0 || buf_get(o_item, item, 'i', 8, 1, "item") < 0 ||
        buf_get(o_first, first, 'i', 8, 1, "first") < 0)
        goto done;
    if (item->len < values->len || first->len < values->len) {
        fail("first_ids: item and first must hold a number per value");
        goto done;
    }
    int bits = table_bits(values->len);
    int64_t slots = (int64_t)1 << bits, items = 0;
    slot_value = malloc(sizeof(uint64_t) * slots);
    slot_item = malloc(sizeof(int64_t) * slots);
    if (slot_value == NULL || slot_item == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    const uint64_t *value = values->view.buf;
    int64_t *number = item->view.buf, *at = first->view.buf;
    for (int64_t s = 0; s < slots; s++)
        slot_item[s] = -1;
    for (int64_t i = 0; i < values->len; i++) {
        int64_t slot = find_slot_u64_i64(slot_value, slot_item, value[i], bits);
        if (slot_item[slot] < 0) {
            slot_item[slot] = items;
            slot_value[slot] = value[i];
            at[items++] = i;
        }
        number[i] = slot_item[slot];
    }
    Py_END_ALLOW_THREADS
    result = PyLong_FromLongLong(items);
done:
    free(slot_value);
    free(slot_item);
    buf_release(bufs, 3);
    return result;
}

PyObject *native_first_in_group(PyObject *self, PyObject *args) {
    PyObject *o_groups, *o_values, *o_first;
    Buf bufs[3] = {{{0}}};
    Buf *groups = &bufs[0], *values = &bufs[1], *first = &bufs[2];
    uint64_t *slot_value = NULL;
    int64_t *slot_group = NULL;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OOO", &o_groups, &o_values, &o_first))
        return NULL;
    if (buf_get(o_groups, groups, 'i', 8, 0, "groups") < 0 || buf_get(o_values, values, 'u', 8, 0, "values") < 0 ||
        buf_get(o_first, first, '?', 1, 1, "first") < 0)
        goto done;
    if (groups->len != values->len || first->len < values->len) {
        fail("first_in_group: groups, values and first of different lengths");
        goto done;
    }
    const int64_t *group = groups->view.buf;
    for (Py_ssize_t i = 0; i < groups->len; i++)
        if (group[i] < 0) {
            fail("first_in_group: group numbers must not be negative");
            goto done;
        }
    int bits = table_bits(values->len);
    int64_t slots = (int64_t)1 << bits;
    slot_value = malloc(sizeof(uint64_t) * slots);
    slot_group = malloc(sizeof(int64_t) * slots); /* the last group that had the value */
    if (slot_value == NULL || slot_group == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    const uint64_t *value = values->view.buf;
    char *is_first = first->view.buf;
    for (int64_t s = 0; s < slots; s++)
        slot_group[s] = -1;
    for (int64_t i = 0; i < values->len; i++) {
        int64_t slot = find_slot_u64_i64(slot_value, slot_group, value[i], bits);
        is_first[i] = slot_group[slot] != group[i];
        slot_group[slot] = group[i];
        slot_value[slot] = value[i];
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    free(slot_value);
    free(slot_group);
    buf_release(bufs, 3);
    return result;
}

PyObject *native_add_new(PyObject *self, PyObject *args) {
    PyObject *o_values, *o_slot_value, *o_marks, *o_out;
    Py_ssize_t count;
    int bits;
    Buf bufs[4] = {{{0}}};
    Buf *values = &bufs[0], *slot_value = &bufs[1], *marks = &bufs[2], *out = &bufs[3];
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OOOiOn", &o_values, &o_slot_value, &o_marks, &bits, &o_out, &count))
        return NULL;
    /* values may be out's own first `count` values (a rebuild): each is written back where it was. */
    if (buf_get(o_values, values, 'u', 8, 0, "values") < 0 ||
        buf_get(o_slot_value, slot_value, 'u', 8, 1, "slot_value") < 0 ||
        buf_get(o_marks, marks, 'i', 1, 1, "marks") < 0 || buf_get(o_out, out, 'u', 8, 1, "out") < 0)
        goto done;
    if (bits < 1 || bits > 62 || slot_value->len < ((int64_t)1 << bits) || marks->len < ((int64_t)1 << bits) ||
        count < 0 || count + values->len >= ((int64_t)1 << bits) || out->len < count + values->len) {
        fail("add_new: the table or out has no room for every value");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    const uint64_t *value = values->view.buf;
    uint64_t *keys = slot_value->view.buf, *kept = out->view.buf;
    int8_t *mark = marks->view.buf;
    for (Py_ssize_t i = 0; i < values->len; i++) {
        uint64_t v = value[i];
        int64_t slot = find_slot_u64_i8(keys, mark, v, bits);
        if (mark[slot] < 0) {
            mark[slot] = 0;
            keys[slot] = v;
            kept[count++] = v;
        }
    }
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(count);
done:
    buf_release(bufs, 4);
    return result;
}
