/* Open addressing over integer keys, as every table of dedup._native builds it: a key's first slot is
 * the top `bits` bits of the key times an odd constant, probing goes on linearly, and a slot is empty
 * while its mark is negative. Tables are at most two thirds full (table_bits). */
#ifndef DEDUP_HASHTABLE_H
#define DEDUP_HASHTABLE_H

#include <stdint.h>

/* log2 of the slots for n keys: a table at most two thirds full (at least 2 slots). */
static inline int table_bits(int64_t n) {
    int bits = 1;
    while (((int64_t)1 << bits) * 2 < 3 * n)
        bits++;
    return bits;
}

static inline int64_t first_slot(uint64_t key, int bits) {
    return (int64_t)((key * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

/* find_slot_NAME(keys, marks, key, bits): the slot that holds `key`, or the empty one where it goes. */
#define DEFINE_FIND_SLOT(NAME, KEY, MARK)                                                          \
    static inline int64_t find_slot_##NAME(const KEY *keys, const MARK *marks, KEY key, int bits) { \
        int64_t mask = ((int64_t)1 << bits) - 1;                                                   \
        int64_t slot = first_slot((uint64_t)key, bits);                                            \
        while (marks[slot] >= 0 && keys[slot] != key)                                              \
            slot = (slot + 1) & mask;                                                              \
        return slot;                                                                               \
    }

DEFINE_FIND_SLOT(u64_i8, uint64_t, int8_t)
DEFINE_FIND_SLOT(u64_i32, uint64_t, int32_t)
DEFINE_FIND_SLOT(u64_i64, uint64_t, int64_t)
DEFINE_FIND_SLOT(u32_i64, uint32_t, int64_t)

#endif
