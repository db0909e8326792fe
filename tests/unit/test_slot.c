/*
 * test_slot.c - unit tests for key_slot() and key_shard() (worker/db.c).
 *
 * key_slot() must give Redis Cluster's slot for every key: keys sharing a
 * {tag} must land on one shard, and the e2e harness and CLUSTER-aware
 * tools compute the same CRC16.  It runs eight bytes a step, so it is
 * checked against the plain bit-at-a-time CRC for every length from 0 to
 * 200 (every tail length after the 8-byte steps), on random bytes, and
 * against slots Redis itself gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/server.h"

/* CRC16-CCITT (XMODEM) one bit at a time: the definition. */
static uint16_t crc16_bitwise(const unsigned char *p, size_t len)
{
    uint16_t crc = 0;
    size_t i;
    int b;

    for (i = 0; i < len; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (b = 0; b < 8; b++)
            crc = (uint16_t)((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

static void test_known_slots(void **state)
{
    (void)state;
    /* CRC16/XMODEM's check value is 0x31c3 for "123456789". */
    assert_int_equal(key_slot("123456789", 9), 0x31c3 & 16383);
    /* CLUSTER KEYSLOT in Redis 7. */
    assert_int_equal(key_slot("foo", 3), 12182);
    assert_int_equal(key_slot("bar", 3), 5061);
    assert_int_equal(key_slot("somekey", 7), 11058);
    assert_int_equal(key_slot("", 0), 0);
}

static void test_matches_bitwise(void **state)
{
    unsigned char buf[200];
    size_t len, i;
    int round;

    (void)state;
    srand(12345);
    for (round = 0; round < 50; round++)
        for (len = 0; len <= sizeof(buf); len++) {
            for (i = 0; i < len; i++) {
                buf[i] = (unsigned char)(rand() & 0xff);
                if (buf[i] == '{')          /* no tags here: whole-key CRC */
                    buf[i] = 'x';
            }
            assert_int_equal(key_slot((const char *)buf, len),
                             crc16_bitwise(buf, len) & 16383);
        }
}

static void test_hash_tags(void **state)
{
    unsigned tag = crc16_bitwise((const unsigned char *)"user1000", 8) & 16383;

    (void)state;
    assert_int_equal(key_slot("{user1000}.following", 20), tag);
    assert_int_equal(key_slot("{user1000}.followers", 20), tag);
    assert_int_equal(key_slot("x{user1000}", 11), tag);
    /* The first '{' and the first '}' after it, as in Redis. */
    assert_int_equal(key_slot("foo{bar}{zap}", 13), key_slot("bar", 3));
    assert_int_equal(key_slot("foo{{bar}}zap", 13), key_slot("{bar", 4));
    /* An empty or unclosed tag: the whole key. */
    assert_int_equal(key_slot("foo{}{bar}", 10),
                     crc16_bitwise((const unsigned char *)"foo{}{bar}", 10) & 16383);
    assert_int_equal(key_slot("foo{bar", 7),
                     crc16_bitwise((const unsigned char *)"foo{bar", 7) & 16383);
    assert_int_equal(key_slot("{", 1), crc16_bitwise((const unsigned char *)"{", 1) & 16383);
    assert_int_equal(key_slot("}{", 2), crc16_bitwise((const unsigned char *)"}{", 2) & 16383);
    /* Only the bytes given count, not what follows them in memory. */
    assert_int_equal(key_slot("{ab}", 3), crc16_bitwise((const unsigned char *)"{ab", 3) & 16383);
}

static void test_shards(void **state)
{
    unsigned n, slot;
    char key[32];
    int i;

    (void)state;
    W.nworkers = 1;
    assert_int_equal(key_shard("anything", 8), 0);
    for (n = 2; n <= 8; n++) {
        W.nworkers = n;
        for (i = 0; i < 1000; i++) {
            int len = snprintf(key, sizeof(key), "key:%d", i);
            slot = key_slot(key, (size_t)len);
            assert_int_equal(key_shard(key, (size_t)len), slot * n / 16384);
            assert_true(key_shard(key, (size_t)len) < n);
        }
    }
    W.nworkers = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_slots),
        cmocka_unit_test(test_matches_bitwise),
        cmocka_unit_test(test_hash_tags),
        cmocka_unit_test(test_shards),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
