/*
 * zcmd.h - what the sorted-set command files share (t_zset.c defines it,
 * t_zsetop.c uses it for ZUNION/ZINTER/ZDIFF and their stores).
 *
 * Payloads carry sorted-set members between shards exactly: an @zread
 * reply's bulk and @zstore's argument are a u64 count, then per member a
 * u64 score (the IEEE bits: -0 and the infinities travel as they are), a
 * u32 length and the member's bytes, in this build's byte order (every
 * worker runs the same build).
 */
#ifndef EMBER_ZCMD_H
#define EMBER_ZCMD_H

#include "cross.h"
#include "server.h"

/* Reply helpers: a list of n members (pairs with scores: flat in RESP2,
 * nested in RESP3), then each member. */
void zcmd_reply_members_hdr(struct resp_out *o, uint64_t n, int withscores);
void zcmd_reply_member(struct resp_out *o, const uint8_t *m, size_t ml, double s,
                       int withscores);

/* Building a payload in b (an allocation failure fails b, sticky): init,
 * members, then finish with their count. */
void zcmd_pay_init(struct rbuf *b);
void zcmd_pay_add(struct rbuf *b, const uint8_t *m, size_t ml, double s);
void zcmd_pay_finish(struct rbuf *b, uint64_t n);

/* Reading one: open checks every record (bounds, no NaN scores) and fails
 * with -1 on a malformed payload (0 bytes is an empty one); next returns
 * 1 per member (pointing into the payload), 0 at the end. */
struct zcmd_pay_it {
    const char *p, *end;
    uint64_t left;             /* members not read yet */
};
int zcmd_pay_open(const char *p, size_t len, struct zcmd_pay_it *it);
int zcmd_pay_next(struct zcmd_pay_it *it, const uint8_t **m, size_t *ml, double *s);

/* A part's reply as a bulk: 0 with *p and *len; 1 when it is an error
 * reply; -1 when malformed. */
int zcmd_part_bulk(const struct rbuf *b, const char **p, size_t *len);

/* Part i's reply as the client's (or an error when it is missing); the
 * reply for a part that makes no sense. */
void zcmd_copy_part(const struct pending *p, unsigned i, struct resp_out *out);
void zcmd_reply_malformed(struct resp_out *out);

/*
 * Where a multi-key command with keys argv[dst] (if >= 0) and
 * argv[first..first+n) runs: 1 here (forwarded to us, one worker, a
 * blocked command's retry, or every key ours); 0 when it went whole to
 * the one other shard owning every key (the reply is on its way); -1 when
 * the keys span shards.
 */
int zcmd_route(struct cmd_ctx *x, int dst, int first, int n);

/*
 * Replaces dst by the members of a payload, or deletes it when the payload
 * is empty, whatever dst held (Redis's setKey: a new key, no expiry), and
 * replies the new cardinality (0 when deleted).  Signals dst's waiters.
 * mode: ZCMD_STORE_WHOLE for a result stored at once (ZUNIONSTORE & co.),
 * ZCMD_STORE_SEQ for one stored member by member (ZRANGESTORE).  An arena
 * error is db_fail()ed; a malformed payload replies an error.
 */
#define ZCMD_STORE_WHOLE 0
#define ZCMD_STORE_SEQ   1
void zcmd_store(struct cmd_ctx *x, const struct resp_arg *dst, const char *pay, size_t len,
                int mode);

#endif
