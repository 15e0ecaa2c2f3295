/* Fingerprints of token-hash runs: exact 64-bit hashes, n-gram (shingle) hashes and their MinHash
 * signatures, for blocks and for documents made of blocks. A run is `lengths[g]` consecutive token
 * hashes of `th`. A signature applies datasketch's affine32 permutations (a * h + b mod 2^32) to
 * each fmix32-mixed shingle hash and keeps the minimum per permutation. */
#include "native.h"

#include <stdlib.h>

#define MAX32 0xFFFFFFFFu

/* MurmurHash3's 32-bit finalizer (datasketch mixes shingle hashes with it before permuting). */
static inline uint32_t fmix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

/* The n-gram at p: the sum of its token hashes times a multiplier per place, folded to 32 bits. */
static inline uint32_t shingle(const uint64_t *th, int64_t p, int64_t n, const uint64_t *position) {
    uint64_t acc = 0;
    for (int64_t k = 0; k < n; k++)
        acc += th[p + k] * position[k];
    return (uint32_t)(acc ^ (acc >> 32));
}

/* The exact hash of th[start:end]: a polynomial in `base`, its length mixed in, then finalised. */
static inline uint64_t sequence(const uint64_t *th, int64_t start, int64_t end, uint64_t base,
                                const uint64_t *position) {
    uint64_t h = 0;
    for (int64_t k = start; k < end; k++)
        h = h * base + th[k];
    h ^= (uint64_t)(end - start) * position[1];
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    return h;
}

/* One shingle into a signature row: the loop gcc vectorises (-O3). */
static inline void fold(uint32_t *restrict row, uint32_t hash, const uint32_t *restrict a,
                        const uint32_t *restrict b, int64_t width) {
    uint32_t h = fmix32(hash);
    for (int64_t p = 0; p < width; p++) {
        uint32_t v = a[p] * h + b[p];
        row[p] = v < row[p] ? v : row[p];
    }
}

static inline void fill_max(uint32_t *row, int64_t width) {
    for (int64_t p = 0; p < width; p++)
        row[p] = MAX32;
}

/* The loops with permutations: built twice on x86-64 with glibc, for AVX2 and for any CPU, and the one
 * the CPU runs chosen at load (gcc's target_clones, through an ifunc), as SSE2 alone has no 32-bit
 * multiply or minimum. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_CLONES
#endif

/* Each run's exact hash; for each run of at least n tokens (with permutations), its n-gram hashes
 * into `out` one after another and their signature into the next row of `sig`. */
VECTOR_CLONES static void sign_blocks(const uint64_t *t, const int64_t *len, int64_t runs, int64_t n,
                                      const uint64_t *pos, uint64_t base, const uint32_t *pa,
                                      const uint32_t *pb, int64_t width, uint64_t *h, uint32_t *sig,
                                      uint32_t *out) {
    int64_t start = 0, written = 0;
    for (int64_t g = 0; g < runs; g++) {
        int64_t end = start + len[g];
        h[g] = sequence(t, start, end, base, pos);
        if (end - start >= n && width) { /* no permutations (exact matching only): hashes alone */
            fill_max(sig, width);
            for (int64_t p = start; p < end - n + 1; p++) {
                uint32_t s = shingle(t, p, n, pos);
                out[written++] = s;
                fold(sig, s, pa, pb, width);
            }
            sig += width;
        }
        start = end;
    }
}

/* Document d is the runs ou[o] of the occurrences with od[o] == d (od ascending): its tokens go to
 * `s` one document after another, its exact hash to h[d] and, with at least n tokens, its signature
 * to row d of `out`: the blocks' own signatures (row_of into `own`) folded with the n-grams that
 * cross a block boundary, so no n-gram inside a block is hashed twice. */
VECTOR_CLONES static void sign_documents(const uint64_t *t, const int64_t *len, int64_t runs,
                                         int64_t *token_start, const int64_t *ou, const int64_t *od,
                                         int64_t occurrences, const int64_t *row_of, const uint32_t *own,
                                         int64_t n, const uint64_t *pos, uint64_t base, const uint32_t *pa,
                                         const uint32_t *pb, int64_t width, int64_t docs, uint64_t *h,
                                         uint32_t *out, uint64_t *s) {
    int64_t at = 0;
    for (int64_t u = 0; u < runs; u++) {
        token_start[u] = at;
        at += len[u];
    }
    int64_t written = 0, o = 0;
    for (int64_t d = 0; d < docs; d++) {
        int64_t first = written, begin = o;
        while (o < occurrences && od[o] == d) {
            int64_t u = ou[o];
            for (int64_t k = token_start[u]; k < token_start[u] + len[u]; k++)
                s[written++] = t[k];
            o++;
        }
        h[d] = written > first ? sequence(s, first, written, base, pos) : 0;
        if (written - first < n || !width)
            continue;
        uint32_t *sig = out + d * width;
        fill_max(sig, width);
        int64_t end = first;
        for (int64_t q = begin; q < o; q++) {
            int64_t u = ou[q];
            if (row_of[u] >= 0) {
                const uint32_t *block = own + row_of[u] * width;
                for (int64_t p = 0; p < width; p++)
                    sig[p] = block[p] < sig[p] ? block[p] : sig[p];
            }
            int64_t start = end;
            end += len[u];
            int64_t from = end - n + 1 > start ? end - n + 1 : start;
            int64_t to = written - n + 1 < end ? written - n + 1 : end;
            for (int64_t p = from; p < to; p++)
                fold(sig, shingle(s, p, n, pos), pa, pb, width);
        }
    }
}

/* Lengths are counts (>= 0) that th holds; the multipliers cover n places and the length's. */
static int check_runs(const Buf *th, const Buf *lengths, const Buf *position, Py_ssize_t n) {
    const int64_t *len = lengths->view.buf;
    int64_t total = 0;
    for (Py_ssize_t g = 0; g < lengths->len; g++) {
        if (len[g] < 0)
            return fail("run lengths must not be negative");
        total += len[g];
    }
    if (total > th->len)
        return fail("run lengths add up to more tokens than given");
    if (n < 0 || n > position->len || position->len < 2)
        return fail("n-gram size out of the range of the position multipliers");
    return 0;
}

PyObject *native_sequences(PyObject *self, PyObject *args) {
    PyObject *o_th, *o_lengths, *o_position, *o_out;
    unsigned long long base;
    Buf bufs[4] = {{{0}}};
    Buf *th = &bufs[0], *lengths = &bufs[1], *position = &bufs[2], *out = &bufs[3];
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OOKOO", &o_th, &o_lengths, &base, &o_position, &o_out))
        return NULL;
    if (buf_get(o_th, th, 'u', 8, 0, "th") < 0 || buf_get(o_lengths, lengths, 'i', 8, 0, "lengths") < 0 ||
        buf_get(o_position, position, 'u', 8, 0, "position") < 0 || buf_get(o_out, out, 'u', 8, 1, "out") < 0 ||
        check_runs(th, lengths, position, 0) < 0)
        goto done;
    if (out->len < lengths->len) {
        fail("out is shorter than lengths");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    const uint64_t *t = th->view.buf, *pos = position->view.buf;
    const int64_t *len = lengths->view.buf;
    uint64_t *h = out->view.buf;
    int64_t start = 0;
    for (Py_ssize_t g = 0; g < lengths->len; g++) {
        h[g] = sequence(t, start, start + len[g], base, pos);
        start += len[g];
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    buf_release(bufs, 4);
    return result;
}

PyObject *native_blocks(PyObject *self, PyObject *args) {
    PyObject *o_th, *o_lengths, *o_position, *o_a, *o_b, *o_hashes, *o_sigs, *o_shingles;
    Py_ssize_t n;
    unsigned long long base;
    Buf bufs[8] = {{{0}}};
    Buf *th = &bufs[0], *lengths = &bufs[1], *position = &bufs[2], *a = &bufs[3], *b = &bufs[4],
        *hashes = &bufs[5], *sigs = &bufs[6], *shingles = &bufs[7];
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OOnOKOOOOO", &o_th, &o_lengths, &n, &o_position, &base, &o_a, &o_b, &o_hashes,
                          &o_sigs, &o_shingles))
        return NULL;
    if (buf_get(o_th, th, 'u', 8, 0, "th") < 0 || buf_get(o_lengths, lengths, 'i', 8, 0, "lengths") < 0 ||
        buf_get(o_position, position, 'u', 8, 0, "position") < 0 || buf_get(o_a, a, 'u', 4, 0, "a") < 0 ||
        buf_get(o_b, b, 'u', 4, 0, "b") < 0 || buf_get(o_hashes, hashes, 'u', 8, 1, "hashes") < 0 ||
        buf_get(o_sigs, sigs, 'u', 4, 1, "sigs") < 0 || buf_get(o_shingles, shingles, 'u', 4, 1, "shingles") < 0 ||
        check_runs(th, lengths, position, n) < 0)
        goto done;
    int64_t width = a->len, rows = 0, windows = 0;
    const int64_t *len = lengths->view.buf;
    for (Py_ssize_t g = 0; g < lengths->len; g++)
        if (len[g] >= n && width) {
            rows++;
            windows += len[g] - n + 1;
        }
    if (b->len != width || hashes->len < lengths->len || sigs->len < rows * width || shingles->len < windows) {
        fail("blocks: outputs too small for the runs, or permutations a and b of different lengths");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    sign_blocks(th->view.buf, len, lengths->len, n, position->view.buf, base, a->view.buf, b->view.buf, width,
                hashes->view.buf, sigs->view.buf, shingles->view.buf);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    buf_release(bufs, 8);
    return result;
}

PyObject *native_documents(PyObject *self, PyObject *args) {
    PyObject *o_th, *o_lengths, *o_occ_u, *o_occ_doc, *o_sig_row, *o_block_sigs, *o_position, *o_a, *o_b,
        *o_hashes, *o_sigs, *o_stream;
    Py_ssize_t block_width, n;
    unsigned long long base;
    Buf bufs[12] = {{{0}}};
    Buf *th = &bufs[0], *lengths = &bufs[1], *occ_u = &bufs[2], *occ_doc = &bufs[3], *sig_row = &bufs[4],
        *block_sigs = &bufs[5], *position = &bufs[6], *a = &bufs[7], *b = &bufs[8], *hashes = &bufs[9],
        *sigs = &bufs[10], *stream = &bufs[11];
    int64_t *token_start = NULL;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OOOOOOnnOKOOOOO", &o_th, &o_lengths, &o_occ_u, &o_occ_doc, &o_sig_row,
                          &o_block_sigs, &block_width, &n, &o_position, &base, &o_a, &o_b, &o_hashes, &o_sigs,
                          &o_stream))
        return NULL;
    if (buf_get(o_th, th, 'u', 8, 0, "th") < 0 || buf_get(o_lengths, lengths, 'i', 8, 0, "lengths") < 0 ||
        buf_get(o_occ_u, occ_u, 'i', 8, 0, "occ_u") < 0 || buf_get(o_occ_doc, occ_doc, 'i', 8, 0, "occ_doc") < 0 ||
        buf_get(o_sig_row, sig_row, 'i', 8, 0, "sig_row") < 0 ||
        buf_get(o_block_sigs, block_sigs, 'u', 4, 0, "block_sigs") < 0 ||
        buf_get(o_position, position, 'u', 8, 0, "position") < 0 || buf_get(o_a, a, 'u', 4, 0, "a") < 0 ||
        buf_get(o_b, b, 'u', 4, 0, "b") < 0 || buf_get(o_hashes, hashes, 'u', 8, 1, "hashes") < 0 ||
        buf_get(o_sigs, sigs, 'u', 4, 1, "sigs") < 0 || buf_get(o_stream, stream, 'u', 8, 1, "stream") < 0 ||
        check_runs(th, lengths, position, n) < 0)
        goto done;
    int64_t width = a->len, docs = hashes->len, runs = lengths->len, tokens = 0;
    int64_t block_rows = block_width > 0 ? block_sigs->len / block_width : 0;
    const int64_t *len = lengths->view.buf, *ou = occ_u->view.buf, *od = occ_doc->view.buf,
                  *row_of = sig_row->view.buf;
    if (b->len != width || occ_doc->len != occ_u->len || sig_row->len < runs || sigs->len < docs * width ||
        (width && block_width != width)) {
        fail("documents: arrays of mismatched sizes");
        goto done;
    }
    for (Py_ssize_t o = 0; o < occ_u->len; o++) {
        if (ou[o] < 0 || ou[o] >= runs || (width && row_of[ou[o]] >= block_rows)) {
            fail("documents: an occurrence names a run or a block signature out of range");
            goto done;
        }
        tokens += len[ou[o]];
    }
    if (tokens > stream->len) {
        fail("documents: the stream is shorter than the documents' tokens");
        goto done;
    }
    token_start = malloc(sizeof(int64_t) * (runs ? runs : 1));
    if (token_start == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    sign_documents(th->view.buf, len, runs, token_start, ou, od, occ_u->len, row_of, block_sigs->view.buf, n,
                   position->view.buf, base, a->view.buf, b->view.buf, width, docs, hashes->view.buf,
                   sigs->view.buf, stream->view.buf);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    free(token_start);
    buf_release(bufs, 12);
    return result;
}
