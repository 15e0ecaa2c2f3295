/* Connected components by union-find: each root is its component's lowest item, as the lower of two
 * roots always becomes the root of their union, so a label is found with no minimum per component. */
#include "native.h"

/* The root of x, halving the path on the way (every parent is at most its child). */
static inline int64_t root(int64_t *parent, int64_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

PyObject *native_components(PyObject *self, PyObject *args) {
    PyObject *o_left, *o_right, *o_label;
    Py_ssize_t n;
    Buf bufs[3] = {{{0}}};
    Buf *left = &bufs[0], *right = &bufs[1], *label = &bufs[2];
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "nOOO", &n, &o_left, &o_right, &o_label))
        return NULL;
    if (buf_get(o_left, left, 'i', 8, 0, "left") < 0 || buf_get(o_right, right, 'i', 8, 0, "right") < 0 ||
        buf_get(o_label, label, 'i', 8, 1, "label") < 0)
        goto done;
    if (n < 0 || left->len != right->len || label->len < n) {
        fail("components: left and right of different lengths, or label shorter than n");
        goto done;
    }
    const int64_t *l = left->view.buf, *r = right->view.buf;
    for (Py_ssize_t k = 0; k < left->len; k++)
        if (l[k] < 0 || l[k] >= n || r[k] < 0 || r[k] >= n) {
            fail("components: a pair names an item out of range");
            goto done;
        }
    Py_BEGIN_ALLOW_THREADS
    int64_t *parent = label->view.buf;
    for (Py_ssize_t i = 0; i < n; i++)
        parent[i] = i;
    for (Py_ssize_t k = 0; k < left->len; k++) {
        int64_t a = root(parent, l[k]), b = root(parent, r[k]);
        if (a < b)
            parent[b] = a;
        else if (b < a)
            parent[a] = b;
    }
    for (Py_ssize_t i = 0; i < n; i++) /* parent[i] <= i: its label is already final */
        parent[i] = parent[parent[i]];
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    buf_release(bufs, 3);
    return result;
}
