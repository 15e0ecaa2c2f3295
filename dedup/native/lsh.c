/* LSH band keys: band b of a signature is its values b * rows to (b + 1) * rows, each times an odd
 * multiplier of its place, summed mod 2^64 and mixed into one 64-bit key. */
#include "native.h"

PyObject *native_band_keys(PyObject *self, PyObject *args) {
    PyObject *o_sigs, *o_multipliers, *o_keys;
    Py_ssize_t items, width, bands, rows;
    Buf bufs[3] = {{{0}}};
    Buf *sigs = &bufs[0], *multipliers = &bufs[1], *keys = &bufs[2];
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OnnnnOO", &o_sigs, &items, &width, &bands, &rows, &o_multipliers, &o_keys))
        return NULL;
    if (buf_get(o_sigs, sigs, 'u', 4, 0, "sigs") < 0 ||
        buf_get(o_multipliers, multipliers, 'u', 8, 0, "multipliers") < 0 ||
        buf_get(o_keys, keys, 'u', 8, 1, "keys") < 0)
        goto done;
    if (items < 0 || bands < 0 || rows < 0 || bands * rows > width || rows > multipliers->len ||
        sigs->len < items * width || keys->len < bands * items) {
        fail("band_keys: bands and rows do not fit the signatures, or keys too small");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    const uint32_t *sig = sigs->view.buf;
    const uint64_t *mult = multipliers->view.buf;
    uint64_t *key = keys->view.buf;
    for (Py_ssize_t b = 0; b < bands; b++)
        for (Py_ssize_t i = 0; i < items; i++) {
            const uint32_t *band = sig + i * width + b * rows;
            uint64_t acc = 0;
            for (Py_ssize_t r = 0; r < rows; r++)
                acc += (uint64_t)band[r] * mult[r];
            key[b * items + i] = acc ^ (acc >> 29);
        }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    buf_release(bufs, 3);
    return result;
}
