/* Verification of candidate pairs of stored streams: stream i is flat[offsets[i]:offsets[i + 1]].
 * jaccard compares two streams as sets (block shingles), lcs as sequences (document tokens). */
#include "native.h"
#include "hashtable.h"

#include <stdlib.h>
#include <string.h>

/* Offsets of every stream a pair names lie in order inside flat; the pairs name streams that exist. */
static int check_pairs(const Buf *flat, const Buf *offsets, const Buf *left, const Buf *right, const Buf *out,
                       int64_t *longest) {
    const int64_t *off = offsets->view.buf, *l = left->view.buf, *r = right->view.buf;
    int64_t streams = offsets->len - 1;
    *longest = 0;
    if (right->len != left->len || out->len < left->len)
        return fail("pairs: left, right and out of different lengths");
    for (Py_ssize_t k = 0; k < left->len; k++)
        for (int side = 0; side < 2; side++) {
            int64_t i = side ? r[k] : l[k];
            if (i < 0 || i >= streams)
                return fail("pairs: a pair names a stream out of range");
            if (off[i] < 0 || off[i] > off[i + 1] || off[i + 1] > flat->len)
                return fail("pairs: a stream's offsets are out of order or past the values");
            if (off[i + 1] - off[i] > *longest)
                *longest = off[i + 1] - off[i];
        }
    return 0;
}

/* x sorted, with tmp as room: insertion for few values, else by bytes (least significant first). */
static void sort_u32(uint32_t *x, int64_t n, uint32_t *tmp) {
    if (n <= 32) {
        for (int64_t i = 1; i < n; i++) {
            uint32_t v = x[i];
            int64_t j = i;
            for (; j > 0 && x[j - 1] > v; j--)
                x[j] = x[j - 1];
            x[j] = v;
        }
        return;
    }
    for (int shift = 0; shift < 32; shift += 8) {
        int64_t count[257] = {0};
        for (int64_t i = 0; i < n; i++)
            count[((x[i] >> shift) & 0xFF) + 1]++;
        if (count[((x[0] >> shift) & 0xFF) + 1] == n)
            continue; /* every value has this byte */
        for (int d = 0; d < 256; d++)
            count[d + 1] += count[d];
        for (int64_t i = 0; i < n; i++)
            tmp[count[(x[i] >> shift) & 0xFF]++] = x[i];
        memcpy(x, tmp, sizeof(uint32_t) * n);
    }
}

/* The index after the run of values equal to values[i] (values sorted). */
static inline int64_t next_distinct(const uint32_t *values, int64_t i, int64_t end) {
    uint32_t x = values[i];
    for (i++; i < end && values[i] == x; i++)
        ;
    return i;
}

static double set_jaccard(const uint32_t *a, int64_t na, const uint32_t *b, int64_t nb) {
    int64_t i = 0, j = 0, common = 0, all = 0;
    while (i < na && j < nb) {
        all++;
        if (a[i] == b[j]) {
            common++;
            i = next_distinct(a, i, na);
            j = next_distinct(b, j, nb);
        } else if (a[i] < b[j]) {
            i = next_distinct(a, i, na);
        } else {
            j = next_distinct(b, j, nb);
        }
    }
    for (; i < na; all++)
        i = next_distinct(a, i, na);
    for (; j < nb; all++)
        j = next_distinct(b, j, nb);
    return all ? (double)common / (double)all : 1.0;
}

PyObject *native_jaccard(PyObject *self, PyObject *args) {
    PyObject *o_flat, *o_offsets, *o_left, *o_right, *o_out;
    Buf bufs[5] = {{{0}}};
    Buf *flat = &bufs[0], *offsets = &bufs[1], *left = &bufs[2], *right = &bufs[3], *out = &bufs[4];
    uint32_t *room = NULL;
    int64_t longest;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OOOOO", &o_flat, &o_offsets, &o_left, &o_right, &o_out))
        return NULL;
    if (buf_get(o_flat, flat, 'u', 4, 0, "flat") < 0 || buf_get(o_offsets, offsets, 'i', 8, 0, "offsets") < 0 ||
        buf_get(o_left, left, 'i', 8, 0, "left") < 0 || buf_get(o_right, right, 'i', 8, 0, "right") < 0 ||
        buf_get(o_out, out, 'f', 8, 1, "out") < 0 || check_pairs(flat, offsets, left, right, out, &longest) < 0)
        goto done;
    room = malloc(sizeof(uint32_t) * 3 * (longest ? longest : 1));
    if (room == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    const uint32_t *values = flat->view.buf;
    const int64_t *off = offsets->view.buf, *l = left->view.buf, *r = right->view.buf;
    double *similarity = out->view.buf;
    uint32_t *a = room, *b = room + longest, *tmp = room + 2 * longest;
    for (Py_ssize_t k = 0; k < left->len; k++) {
        int64_t na = off[l[k] + 1] - off[l[k]], nb = off[r[k] + 1] - off[r[k]];
        memcpy(a, values + off[l[k]], sizeof(uint32_t) * na);
        memcpy(b, values + off[r[k]], sizeof(uint32_t) * nb);
        sort_u32(a, na, tmp);
        sort_u32(b, nb, tmp);
        similarity[k] = set_jaccard(a, na, b, nb);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    free(room);
    buf_release(bufs, 5);
    return result;
}

/* Room for one pair's LCS, grown as pairs need. */
typedef struct {
    uint32_t *slot_token;
    int64_t *slot_id, *position_id;
    uint64_t *matches, *v;
    int64_t tokens, ids, positions, words, table; /* how many of each there is room for */
} LcsRoom;

static int grow(void **p, int64_t *have, int64_t need, size_t size) {
    if (need <= *have)
        return 0;
    void *q = realloc(*p, size * (size_t)need);
    if (q == NULL)
        return -1;
    *p = q;
    *have = need;
    return 0;
}

/* Length of the longest common subsequence of a and b (a the shorter), -1 if a's match table would
 * take over `limit` words, -2 out of memory: Hyyro's bit-parallel recurrence, a bit per position of
 * a, V = (V + U) | (V - U) with U = V & match(b_j), where V - U is V & ~U as U's bits are V's. */
static int64_t lcs(const uint32_t *a, int64_t m, const uint32_t *b, int64_t n, int64_t limit, LcsRoom *room) {
    if (m == 0)
        return 0;
    int bits = table_bits(m);
    int64_t words = (m + 63) / 64, slots = (int64_t)1 << bits;
    if (grow((void **)&room->slot_token, &room->tokens, slots, sizeof(uint32_t)) < 0 ||
        grow((void **)&room->slot_id, &room->ids, slots, sizeof(int64_t)) < 0 ||
        grow((void **)&room->position_id, &room->positions, m, sizeof(int64_t)) < 0 ||
        grow((void **)&room->v, &room->words, words, sizeof(uint64_t)) < 0)
        return -2;
    uint32_t *slot_token = room->slot_token;
    int64_t *slot_id = room->slot_id, *position_id = room->position_id, ids = 0;
    for (int64_t s = 0; s < slots; s++)
        slot_id[s] = -1;
    for (int64_t i = 0; i < m; i++) {
        int64_t slot = find_slot_u32_i64(slot_token, slot_id, a[i], bits);
        if (slot_id[slot] < 0) {
            slot_id[slot] = ids++;
            slot_token[slot] = a[i];
        }
        position_id[i] = slot_id[slot];
    }
    if (ids * words > limit)
        return -1; /* too long and varied for the table: the caller measures this pair another way */
    if (grow((void **)&room->matches, &room->table, ids * words, sizeof(uint64_t)) < 0)
        return -2;
    uint64_t *matches = room->matches, *v = room->v;
    memset(matches, 0, sizeof(uint64_t) * ids * words);
    for (int64_t i = 0; i < m; i++)
        matches[position_id[i] * words + (i >> 6)] |= (uint64_t)1 << (i & 63);
    for (int64_t w = 0; w < words; w++)
        v[w] = ~(uint64_t)0;
    for (int64_t j = 0; j < n; j++) {
        int64_t row = slot_id[find_slot_u32_i64(slot_token, slot_id, b[j], bits)];
        if (row < 0)
            continue; /* a token a lacks changes nothing */
        const uint64_t *match = matches + row * words;
        uint64_t carry = 0;
        for (int64_t w = 0; w < words; w++) {
            uint64_t x = v[w], u = x & match[w], low = x + u, total = low + carry;
            carry = (low < x || total < low) ? 1 : 0;
            v[w] = total | (x & ~u);
        }
    }
    int64_t ones = 0;
    for (int64_t w = 0; w < words; w++) {
        uint64_t word = v[w];
        if (w == words - 1 && (m & 63))
            word &= ((uint64_t)1 << (m & 63)) - 1;
        ones += __builtin_popcountll(word);
    }
    return m - ones;
}

PyObject *native_lcs(PyObject *self, PyObject *args) {
    PyObject *o_flat, *o_offsets, *o_left, *o_right, *o_out;
    Py_ssize_t limit;
    Buf bufs[5] = {{{0}}};
    Buf *flat = &bufs[0], *offsets = &bufs[1], *left = &bufs[2], *right = &bufs[3], *out = &bufs[4];
    LcsRoom room = {0};
    int64_t longest, failed = 0;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OOOOOn", &o_flat, &o_offsets, &o_left, &o_right, &o_out, &limit))
        return NULL;
    if (buf_get(o_flat, flat, 'u', 4, 0, "flat") < 0 || buf_get(o_offsets, offsets, 'i', 8, 0, "offsets") < 0 ||
        buf_get(o_left, left, 'i', 8, 0, "left") < 0 || buf_get(o_right, right, 'i', 8, 0, "right") < 0 ||
        buf_get(o_out, out, 'i', 8, 1, "out") < 0 || check_pairs(flat, offsets, left, right, out, &longest) < 0)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    const uint32_t *values = flat->view.buf;
    const int64_t *off = offsets->view.buf, *l = left->view.buf, *r = right->view.buf;
    int64_t *length = out->view.buf;
    for (Py_ssize_t k = 0; k < left->len && !failed; k++) {
        const uint32_t *a = values + off[l[k]], *b = values + off[r[k]];
        int64_t na = off[l[k] + 1] - off[l[k]], nb = off[r[k] + 1] - off[r[k]];
        length[k] = na <= nb ? lcs(a, na, b, nb, limit, &room) : lcs(b, nb, a, na, limit, &room);
        failed = length[k] == -2;
    }
    Py_END_ALLOW_THREADS
    if (failed)
        PyErr_NoMemory();
    else
        result = Py_NewRef(Py_None);
done:
    free(room.slot_token);
    free(room.slot_id);
    free(room.position_id);
    free(room.matches);
    free(room.v);
    buf_release(bufs, 5);
    return result;
}
