/* Many sorted keys found in one sorted column (dedup/index/search.py): one pass over both, galloping
 * over the stretch of the column between two wanted keys, so each page of the column is read at most
 * once and the cost is O(q log(n/q)) comparisons for q keys wanted among n. */
#include "native.h"

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
        fail("ranges: which, lo and hi must hold one entry per wanted key");
        goto done;
    }
    Py_ssize_t found = 0;
    Py_BEGIN_ALLOW_THREADS
    const uint64_t *s = stored->view.buf, *w = wanted->view.buf;
    int64_t *out_which = which->view.buf, *out_lo = lo->view.buf, *out_hi = hi->view.buf;
    Py_ssize_t n = stored->len, i = 0;
    for (Py_ssize_t j = 0; j < wanted->len; j++) {
        uint64_t key = w[j];
        if (i < n && s[i] < key) { /* gallop from i (s[i] < key) to a bound, then search between */
            Py_ssize_t below = i, step = 1;
            while (i + step < n && s[i + step] < key) {
                below = i + step;
                step *= 2;
            }
            Py_ssize_t a = below + 1, b = i + step < n ? i + step : n;
            while (a < b) {
                Py_ssize_t m = (a + b) >> 1;
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
