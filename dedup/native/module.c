/* dedup._native: the compiled kernels of dedup, in C. Their Python faces are in dedup/ (fingerprint
 * kernels, hash tables, LSH, verification, clusters); this file holds the module table and the typed
 * buffer views every kernel takes its arrays through (the buffer protocol: no numpy headers). */
#include "native.h"

#include <string.h>

static int format_kind(const char *format, char kind) {
    if (format == NULL)
        format = "B";
    if (*format == '@' || *format == '=' || *format == '<')
        format++; /* native or little-endian order (the only order built for) */
    if (format[0] == '\0' || format[1] != '\0')
        return 0;
    switch (kind) {
    case 'u': return strchr("BHILQ", *format) != NULL;
    case 'i': return strchr("bhilq", *format) != NULL;
    case 'f': return strchr("fd", *format) != NULL;
    case '?': return *format == '?';
    }
    return 0;
}

int buf_get(PyObject *obj, Buf *b, char kind, Py_ssize_t itemsize, int writable, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0)
        return -1;
    b->held = 1;
    if (b->view.itemsize != itemsize || !format_kind(b->view.format, kind)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a contiguous array of %zd-byte %s, got format '%s'", name,
                     itemsize, kind == 'u' ? "unsigned integers" : kind == 'i' ? "signed integers"
                               : kind == 'f' ? "floats" : "booleans",
                     b->view.format ? b->view.format : "B");
        return -1;
    }
    b->len = b->view.len / itemsize;
    return 0;
}

void buf_release(Buf *bufs, int count) {
    for (int i = 0; i < count; i++)
        if (bufs[i].held) {
            PyBuffer_Release(&bufs[i].view);
            bufs[i].held = 0;
        }
}

int fail(const char *message) {
    PyErr_SetString(PyExc_ValueError, message);
    return -1;
}

static PyMethodDef methods[] = {
    {"sequences", native_sequences, METH_VARARGS,
     "sequences(th, lengths, out): a 64-bit hash per run of token hashes."},
    {"blocks", native_blocks, METH_VARARGS,
     "blocks(th, lengths, n, a, b, hashes, sigs, shingles): exact hashes, signatures, n-gram hashes."},
    {"documents", native_documents, METH_VARARGS,
     "documents(th, lengths, occ_u, occ_doc, sig_row, block_sigs, width, n, a, b, hashes, sigs, stream)."},
    {"jaccard", native_jaccard, METH_VARARGS, "jaccard(flat, offsets, left, right, out): set Jaccard per pair."},
    {"lcs", native_lcs, METH_VARARGS, "lcs(flat, offsets, left, right, out, limit): LCS length per pair."},
    {"pairs", native_pairs, METH_VARARGS, "pairs(keys, out) -> count: pairs of positions with equal keys."},
    {"first_ids", native_first_ids, METH_VARARGS, "first_ids(values, item, first) -> count."},
    {"first_in_group", native_first_in_group, METH_VARARGS, "first_in_group(groups, values, first)."},
    {"add_new", native_add_new, METH_VARARGS,
     "add_new(values, slot_value, marks, bits, out, count) -> count: values not yet in the table."},
    {"band_keys", native_band_keys, METH_VARARGS, "band_keys(sigs, width, bands, rows, multipliers, keys)."},
    {"components", native_components, METH_VARARGS,
     "components(n, left, right, label): each item's component's lowest item."},
    {"ranges", native_ranges, METH_VARARGS,
     "ranges(stored, wanted, which, lo, hi) -> count: where sorted keys stand in a sorted column."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "dedup._native",
    "dedup's compiled kernels: each checks its buffers, then runs without the GIL.", -1, methods,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
