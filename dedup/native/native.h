/* What the files of dedup._native share: typed views of the buffers they are given, and the kernels
 * the module table (module.c) lists. Every kernel checks its buffers (type, size, indices in range)
 * while it holds the GIL, then runs its loop without it. */
#ifndef DEDUP_NATIVE_H
#define DEDUP_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* A contiguous buffer of one element type: 'u' unsigned, 'i' signed, 'f' floating, '?' bool. */
typedef struct {
    Py_buffer view;
    Py_ssize_t len; /* elements */
    int held;
} Buf;

/* Fill `b` from `obj`; on a wrong type, size of element or a read-only buffer asked to be written,
 * raise TypeError/ValueError naming `name` and return -1. */
int buf_get(PyObject *obj, Buf *b, char kind, Py_ssize_t itemsize, int writable, const char *name);
void buf_release(Buf *bufs, int count);

/* ValueError(message) and -1, for checks of sizes and indices. */
int fail(const char *message);

PyObject *native_sequences(PyObject *self, PyObject *args);
PyObject *native_blocks(PyObject *self, PyObject *args);
PyObject *native_documents(PyObject *self, PyObject *args);
PyObject *native_jaccard(PyObject *self, PyObject *args);
PyObject *native_lcs(PyObject *self, PyObject *args);
PyObject *native_pairs(PyObject *self, PyObject *args);
PyObject *native_first_ids(PyObject *self, PyObject *args);
PyObject *native_first_in_group(PyObject *self, PyObject *args);
PyObject *native_add_new(PyObject *self, PyObject *args);
PyObject *native_band_keys(PyObject *self, PyObject *args);
PyObject *native_components(PyObject *self, PyObject *args);
PyObject *native_ranges(PyObject *self, PyObject *args);

#endif
