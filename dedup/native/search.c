/* Sorted keys found in a sorted column in one galloping pass (dedup/index/search.py is its face). */
#include "native.h"

/* ranges(stored, wanted, which, lo, hi) -> count: for each key of `wanted` (sorted) that `stored`
 * (sorted) holds, its position in `wanted` and the range lo:hi of `stored` equal to it. From the
 * last place reached, the search gallops (steps 1, 2, 4, ...) to a bound and halves between. */
PyObject *native_ranges(PyObject *self, PyObject *args) {
    PyObject *o_stored, *o_wanted, *o_which, *o_lo, *o_hi;
    Buf bufs[5] = {{{0}}};
    Buf *stored = &bufs[0], *wanted = &bufs[1], *which = &bufs[2], *lo = &bufs[3], *hi = &bufs[4];
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OOOOO", &o_stored, &o_wanted, &o_which, &o_lo, &o_hi))
        return NULL;
    if (buf_get(o_stored, stored, 'u', 8, 0, "stored") < 0 || buf_get(o_wanted, wanted, 'u', 8, 0, "wanted") < 0 ||
        buf_get(o_which, which, 'i', 8, 1, "which") < 0 || buf_get(o_lo, lo, 'i', 8, 1, "lo") < 0 ||
        buf_get(o_hi, hi, 'i', 8, 1, "hi") < 0)
        goto done;
    if (which->len < wanted->len || lo->len < wanted->len || hi->len < wanted->len) {
        fail("ranges: which, lo and hi must hold as many items as wanted");
        goto done;
    }
    Py_ssize_t found = 0;
    Py_BEGIN_ALLOW_THREADS
    const uint64_t *s = stored->view.buf, *w = wanted->view.buf;
    int64_t *out_which = which->view.buf, *out_lo = lo->view.buf, *out_hi = hi->view.buf;
    Py_ssize_t n = stored->len, i = 0;
    for (Py_ssize_t j = 0; j < wanted->len; j++) {
        uint64_t key = w[j];
        if (i < n && s[i] < key) {
            Py_ssize_t below = i, step = 1;
            while (i + step < n && s[i + step] < key) {
                below = i + step;
                step *= 2;
            }
            Py_ssize_t a = below + 1, b = i + step < n ? i + step : n;
            while (a < b) {
                Py_ssize_t m = a + ((b - a) >> 1);
                if (s[m] < key)
                    a = m + 1;
                else
                    b = m;
            }
            i = a;
        }
        Py_ssize_t k = i;
        while (k < n && s[k] == key)
            k++;
        if (k > i) {
            out_which[found] = j;
            out_lo[found] = i;
            out_hi[found] = k;
            found++;
        }
    }
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(found);
done:
    buf_release(bufs, 5);
    return result;
}
