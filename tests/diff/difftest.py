#!/usr/bin/python3
"""Differential test: the same randomized command streams to ember and to a
real redis-server, every reply compared.

  /usr/bin/python3 tests/diff/difftest.py [--seed S] [--commands N]
      [--families strings,keys,expire | all] [--resp 2|3|2,3]
      [--target-a HOST:PORT] [--target-b HOST:PORT] [--workers N]
      [--connections N] [--show N] [--self-test]
      [--limits mixed|small|default|none] [--limits-every N]
      [--show-limits] [--sample-every N]

Target A is ember (EMBER_BUILD/emberd, started here with --workers N), or
EMBER_HOST/EMBER_PORT, or a second redis-server with EMBER_TARGET=redis;
target B is a redis-server started here.  --target-a/--target-b name servers
that are already running (they are FLUSHALLed).  The seed is printed first;
the same seed, families, resp and commands reproduce a run exactly (the
stream does not depend on the replies, except for the SPOP re-sync).
Exit status: 0 when every reply matched, 1 on any mismatch, 2 on bad usage
or when a server could not be started.

WHAT IS COMPARED AND WHAT IS NORMALISED (and why).  Keep this list honest:
everything not listed here is compared byte for byte: RESP type, length,
payload, error text.

 1. Unordered replies (KEYS, SMEMBERS, SINTER, SUNION, SDIFF, HKEYS, HVALS):
    same aggregate type and the same multiset of elements.  Redis returns
    them in hash-table order, which depends on a per-process random hash
    seed, so two redis-servers disagree too.
 2. HGETALL: same type and the same multiset of (field, value) pairs, for
    the same reason.
 3. SCAN, SSCAN, HSCAN, ZSCAN: cursors are opaque and implementation
    defined, so each server is iterated to cursor 0 on its own and the
    elements (pairs for HSCAN/ZSCAN) of the two full iterations are
    compared as MULTISETS: an element returned twice by one server and
    once by the other is a mismatch.  Redis allows repeats only when the
    table changes between two calls (a collection written to, or resized);
    the stream never changes anything during an iteration: the scan
    command ends its pipeline and the following calls go out one by one on
    the same connection while every other connection is idle, and Redis
    rehashes a hash's, set's or sorted set's table only when that key is
    accessed.  One exception, for SCAN alone: Redis's serverCron shrinks a
    sparse keyspace table by itself (tryResizeHashTables), also between two
    SCAN calls, which may repeat a key.  So when two SCAN iterations give
    the same set but not the same counts, both servers are iterated once
    more at once, and those second iterations must agree as multisets (a
    repeat that does not come back is forgiven, and counted in the run's
    summary).  Elements are therefore never compared as plain sets.  An
    error on the first call is compared exactly.
 4. TTL, PTTL, EXPIRETIME, PEXPIRETIME: negative values exactly; others
    within 1 s (1000 ms), because the two servers run each command, and ran
    the command that set the expiry, a few ms apart.
 5. RANDOMKEY, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER are random by
    definition: the same pipeline first reads the key's content (KEYS *,
    SMEMBERS, HGETALL, ZRANGE WITHSCORES: compared as above), then each
    server's reply is checked against its own content: nil exactly when
    empty, the right count (min(count, size) distinct for count > 0, |count|
    for count < 0), members that exist, values and scores that match, and
    the same reply type on both servers.
 6. SPOP (without a count, or with any count): checked like 5; it changes
    the two servers differently, so the batch ends right there and the
    members read before it are SADDed back to both, which makes them equal
    again (that SADD's reply is compared exactly).
 7. Never sent in the stream: TIME, INFO, CLIENT, OBJECT, DEBUG, CONFIG,
    MEMORY (server specific by nature); CONFIG SET and OBJECT ENCODING are
    sent only on separate connections, for notes 12 and 13.  HELLO 3's
    reply is only checked to be a map with proto 3.
 8. Blocking pops (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP, BZPOPMIN,
    BZPOPMAX, BZMPOP) are only sent right after a push to one of their keys
    in the same pipeline, so they never block: either they pop or they fail
    at once (WRONGTYPE, bad timeout).  Timing-dependent outcomes are not
    compared.
 9. BYLEX ranges (ZRANGEBYLEX, ZLEXCOUNT, ZRANGE BYLEX, ...) run only on
    dedicated "lex:" keys whose members all have score 0; Redis documents
    the result as unspecified when scores differ.
10. Expiry times in the random stream are long (> 1 day) and drawn from
    slots 10000 s apart that are never reused, so NX/XX/GT/LT outcomes never
    depend on the milliseconds between the two servers.  Short TTLs live in
    a separate phase that sleeps past them, then checks that the keys are
    gone on both (lazily, through GET/EXISTS/TTL on half of them, and
    actively, by waiting for DBSIZE to drop on the other half, up to 10 s).
11. At the end of each run every database of both servers is dumped (keys,
    types, values, PTTL within 1000 ms) and compared, so a difference that
    no reply showed is still found.
12. Compact-encoding limits: so that collections cross the size limits
    both ways (compact <-> hashtable/skiplist/quicklist), the stream is cut
    into segments of --limits-every commands (5000), and each segment
    starts with the same CONFIG SET on both servers, on a connection of its
    own: hash-max-listpack-entries/-value, zset-max-listpack-entries/
    -value, set-max-intset-entries, list-max-listpack-size, and
    set-max-listpack-entries/-value to a server whose CONFIG GET knows them
    (ember; Redis 7.0 has no set listpack).  --limits mixed (the default)
    alternates small limits (entries mostly 4-16, lengths 8-32, list nodes
    of 1-6 elements, now and then 0-3; drawn per segment from a stream of
    their own, so --limits never changes the commands) and the defaults,
    half of the commands each; small / default use one kind only; none
    sends no CONFIG.  Both servers' original values are restored at the
    end.  Encodings are not visible in replies, with exceptions Redis has
    too (a sorted set's score -0 reads back as 0 from a listpack), so
    replies must match whatever each server converted, and when: ember
    makes a hash or set compact again when it shrinks, Redis 7.0 does not.
    The WIDE_KEYS keys draw members from wider pools, so their sizes cross
    every small entries limit.
13. Statistics only: every --sample-every commands (2500) and at the end
    of a run, TYPE and OBJECT ENCODING of every key of both servers, on
    connections of their own; the summary counts the keys seen in each
    encoding and the changes seen between two samples.  Never compared:
    encodings are each server's own business (Redis 7.0 lists are always
    a quicklist, ember's small ones a listpack).  The one exception it
    reports (still without failing the run): sorted sets whose encodings
    differ between the servers at a sample, since Redis shows a sorted
    set's encoding through a score -0 (it reads back as 0 from a listpack,
    -0 from a skiplist) and ember keeps Redis's encoding for that reason.
"""

import argparse
import os
import random
import socket
import sys
import threading
import time
from collections import Counter, deque

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import harness as h  # noqa: E402

FAMILIES = ["strings", "keys", "expire", "lists", "hashes", "sets", "zsets"]
DEFAULT_FAMILIES = ",".join(FAMILIES)
TTL_TOL_S = 1
TTL_TOL_MS = 1000
NDB = 16

# --------------------------------------------------------------------------
# commands

class Cmd(object):
    """One command of the stream and how its replies are compared.

    check: 'exact' | 'unordered' | 'pairs' | 'ttl' | 'scan' | 'randomkey' |
           'srandmember' | 'hrandfield' | 'zrandmember' | 'spop' | 'hello'
    ref:   index (in the batch) of the command whose reply the validity
           check uses (set when the group is put in a batch)
    end:   the batch ends after this command
    """

    __slots__ = ("args", "check", "tol", "ref", "end", "opt", "fam")

    def __init__(self, args, check="exact", tol=0, ref=None, end=False,
                 opt=None):
        self.args = [h.to_bytes(a) for a in args]
        self.check = check
        self.tol = tol
        self.ref = ref           # relative (-1 = previous) until placed
        self.end = end
        self.opt = opt or {}
        self.fam = None

    @property
    def name(self):
        return self.args[0].upper().decode("latin-1") if self.args else ""

    def __repr__(self):
        return fmt_args(self.args)


def fmt_arg(a, limit=60):
    if a and all(33 <= c < 127 and c not in (34, 39, 92) for c in a):
        s = a.decode()
    else:
        s = '"%s"' % "".join(chr(c) if 32 <= c < 127 and c not in (34, 92)
                             else "\\x%02x" % c for c in a)
    return s if len(s) <= limit else s[:limit] + "...(%d bytes)" % len(a)


def fmt_args(args):
    return " ".join(fmt_arg(a) for a in args)


def fmt_reply(node, limit=300):
    if node is None:
        return "(no reply)"
    r = repr(node.raw)[2:-1]
    return r if len(r) <= limit else r[:limit] + "...(%d bytes)" % len(node.raw)


# --------------------------------------------------------------------------
# value pools

# Each family mostly works on its own keys (so that most commands do real
# work), with a few keys shared by all families and an occasional pick from
# the whole pool (so that types still collide: WRONGTYPE, RENAME over
# another type, ...).  Hash tags put some keys on the same shard in ember.
HOMES = {
    "strings": [b"k0", b"k1", b"k2", b"{t}k", b"k\xffbin", b""],
    "lists": [b"l0", b"l1", b"{t}l", b"l e"],
    "hashes": [b"h0", b"h1", b"{t}h", b"{u}h"],
    "sets": [b"s0", b"s1", b"{t}s", b"{u}s"],
    "zsets": [b"z0", b"z1", b"{t}z", b"{u}z"],
}
SHARED_KEYS = [b"k3", b"{u}x"]
GENERAL_KEYS = [k for fam in ("strings", "lists", "hashes", "sets", "zsets")
                for k in HOMES[fam]] + SHARED_KEYS
LEX_KEYS = [b"lex:{z}1", b"lex:{z}2", b"lex:3"]

SHORT_VALUES = [b"", b"a", b"b", b"abc", b"hello", b"v1", b"v2",
                b"foo bar", b"\x00", b"\r\n", b"caf\xc3\xa9", b"\xff\xfe",
                b"x" * 10, b"y" * 64, b"z" * 65]
EDGE_INTS = [b"0", b"1", b"-1", b"9223372036854775807",
             b"-9223372036854775808", b"9223372036854775808",
             b"-9223372036854775809", b"1.5", b"abc", b"", b" 1", b"1 ",
             b"01", b"+1", b"-0", b"0x10", b"1e3", b"100000000000000000000"]
EDGE_FLOATS = [b"0", b"1.5", b"-0.1", b"0.1", b"3e2", b"1e-5", b"-1e10",
               b"5.0e3", b"inf", b"-inf", b"+inf", b"nan", b"abc", b"",
               b"1e308", b"2.5e308", b" 1.5", b"0x10", b"1.7976931348623157e308",
               b"123456789012345678901234567890", b"3.0000000000000004"]
FIELDS = [b"f%d" % i for i in range(8)] + [b"", b"F" * 70, b"n1", b"n2"]
SMEMBERS_POOL = [b"%d" % i for i in range(-3, 16)] + [
    b"a", b"b", b"c", b"d", b"hello", b"", b"m" * 70, b"9223372036854775807",
    b"-9223372036854775808", b"007"]
ZMEMBERS = [b"m%d" % i for i in range(10)] + [b"a", b"b", b"", b"M" * 70]
SCORES = [b"0", b"1", b"2", b"2.5", b"-1", b"-3.25", b"0.1", b"10", b"1e2",
          b"-inf", b"+inf", b"inf", b"3.0000000000000004", b"1e-3",
          b"1.7976931348623157e308", b"5", b"7", b"-0"]
BAD_SCORES = [b"nan", b"abc", b"", b"1.5.5", b"(1", b"0x1"]
# One home key per collection family draws its members from a wider pool,
# and now and then adds many at once, so that its size crosses every
# entries limit a limits segment sets (note 12), in one command too.
WIDE_KEYS = frozenset([b"h1", b"s1", b"z1"])
FIELDS_WIDE = FIELDS + [b"f%d" % i for i in range(8, 28)]
SMEMBERS_WIDE = SMEMBERS_POOL + [b"%d" % i for i in range(16, 48)] + [
    b"w%d" % i for i in range(8)]
ZMEMBERS_WIDE = ZMEMBERS + [b"m%d" % i for i in range(10, 30)]
LEX_MEMBERS = [b"a", b"aa", b"ab", b"b", b"ba", b"c", b"d", b"e", b"",
               b"\x00", b"\xff", b"m", b"z"]
PATTERNS = [b"*", b"k*", b"k?", b"k1*", b"{t}*", b"*[a-c]", b"k[0-5]",
            b"k[^1]", b"*e*", b"", b"\\*", b"[", b"k\\", b"nomatch*",
            b"lex:*", b"*b*", b"?", b"l*", b"h?", b"s*", b"z[01]", b"*1",
            b"{u}*", b"*[^0-9]", b"[hz]?"]
TYPES = [b"string", b"list", b"hash", b"set", b"zset", b"stream", b"none",
         b"STRING", b"nosuchtype"]


class Gen(object):
    """Random command groups, per family.  Every choice comes from self.rng,
    so a seed reproduces the stream."""

    def __init__(self, rng, families, t0):
        self.rng = rng
        self.families = families
        self.t0 = t0                 # unix time at the start of the run
        self.used_slots = set()
        self.active_keys = [k for f in families for k in HOMES.get(f, [])] \
            or HOMES["strings"]
        tables = {"strings": self.strings_table(), "keys": self.keys_table(),
                  "expire": self.expire_table(), "lists": self.lists_table(),
                  "hashes": self.hashes_table(), "sets": self.sets_table(),
                  "zsets": self.zsets_table()}
        self.table = []
        for fam in families:
            for w, fn in tables[fam]:
                self.table.append((w, fam, fn))
        self.weights = list(itertools_accumulate(w for w, _, _ in self.table))

    # -- pools
    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def key(self, fam="strings"):
        r = self.rng.random()
        if r < 0.88:
            home = HOMES.get(fam)
            if home is None:     # keys, expire: the keys of active families
                home = self.active_keys
            return self.pick(home)
        if r < 0.95:
            return self.pick(SHARED_KEYS)
        return self.pick(GENERAL_KEYS)

    def keys(self, fam, lo=1, hi=4):
        return [self.key(fam) for _ in range(self.rng.randint(lo, hi))]

    def value(self):
        r = self.rng.random()
        if r < 0.45:
            return self.pick(SHORT_VALUES)
        if r < 0.75:
            return b"%d" % self.rng.randint(-1000, 1000)
        if r < 0.85:
            return self.pick(EDGE_INTS)
        if r < 0.9:
            return self.pick(EDGE_FLOATS)
        if r < 0.97:
            return bytes(self.rng.randrange(256)
                         for _ in range(self.rng.randint(0, 20)))
        return self.pick([b"L", b"\x00x", b"ab"]) * self.rng.randint(30, 1500)

    def int_arg(self, lo=-5, hi=12):
        r = self.rng.random()
        if r < 0.85:
            return b"%d" % self.rng.randint(lo, hi)
        return self.pick(EDGE_INTS)

    def index(self):
        r = self.rng.random()
        if r < 0.9:
            return b"%d" % self.rng.randint(-12, 12)
        return self.pick([b"9223372036854775807", b"-9223372036854775808",
                          b"100000", b"-100000", b"abc", b"1.5", b""])

    def slot(self):
        while True:
            s = self.rng.randrange(1, 1000000)
            if s not in self.used_slots:
                self.used_slots.add(s)
                return s

    def ttl_s(self):
        """A relative TTL in seconds from a never-reused 10000 s slot."""
        return 100000 + self.slot() * 10000

    def expire_arg(self, unit, past=True):
        """An argument for EX/PX/EXAT/PXAT/EXPIRE... of the given unit:
        's', 'ms', 'at', 'pxat'.  Mostly long and valid; sometimes in the
        past, zero, negative or invalid.  past=False for SET's EXAT/PXAT:
        Redis 7.0 stores such a key already expired, and DBSIZE counts it
        until active expiry happens to sample it (the expiry phase covers
        that case instead)."""
        r = self.rng.random()
        if r < 0.8 or (not past and r < 0.9):
            v = self.ttl_s()
            if unit == "s":
                return b"%d" % v
            if unit == "ms":
                return b"%d" % (v * 1000)
            if unit == "at":
                return b"%d" % (self.t0 + v)
            return b"%d" % ((self.t0 + v) * 1000)
        if r < 0.9:
            if unit in ("at", "pxat"):
                past = self.t0 - self.rng.randint(1000, 10 ** 8)
                return b"%d" % (past if unit == "at" else past * 1000)
            return self.pick([b"0", b"-1", b"-100"])
        return self.pick([b"abc", b"1.5", b"", b"9223372036854775807",
                          b"-9223372036854775808", b"9223372036854775",
                          b"922337203685477580", b"0x10", b" 5"])

    def count(self):
        r = self.rng.random()
        if r < 0.8:
            return b"%d" % self.rng.randint(0, 8)
        if r < 0.9:
            return b"%d" % self.rng.randint(-5, -1)
        return self.pick([b"abc", b"100", b"9223372036854775807", b"1.5",
                          b""])

    def maybe_case(self, name):
        r = self.rng.random()
        if r < 0.04:
            return name.lower()
        if r < 0.05:
            return name.capitalize()
        return name

    def timeout(self):
        return self.pick([b"0.1", b"0.1", b"0.05", b"0.2", b"-1", b"abc"])

    # -- the whole generator
    def group(self):
        """The next group of commands (a list of Cmd)."""
        x = self.rng.random() * self.weights[-1]
        lo, hi = 0, len(self.weights) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.weights[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        _, fam, fn = self.table[lo]
        cmds = fn(fam)
        if isinstance(cmds, Cmd):
            cmds = [cmds]
        for c in cmds:
            c.fam = fam
            if c.args and self.rng.random() < 0.05:
                c.args[0] = self.maybe_case(c.args[0])
        return cmds

    def arity(self, fam, table):
        return Cmd(self.pick(table))

    # ---------------------------------------------------------------- strings
    def strings_table(self):
        return [
            (10, self.g_set), (6, self.g_get), (2, self.g_setnx),
            (2, self.g_setex), (2, self.g_getset), (2, self.g_getdel),
            (3, self.g_getex), (3, self.g_mget), (2, self.g_mset),
            (1, self.g_msetnx), (3, self.g_append), (2, self.g_strlen),
            (3, self.g_getrange), (3, self.g_setrange), (4, self.g_incr),
            (3, self.g_incrby), (3, self.g_incrbyfloat), (4, self.g_setnum),
            (2, self.g_strings_arity), (1, self.g_base),
        ]

    def g_set(self, fam):
        k = self.key(fam)
        args = [b"SET", k, self.value()]
        opts = []
        r = self.rng.random()
        if r < 0.15:
            opts.append([b"NX"])
        elif r < 0.3:
            opts.append([b"XX"])
        if self.rng.random() < 0.25:
            opts.append([b"GET"])
        r = self.rng.random()
        if r < 0.12:
            opts.append([b"EX", self.expire_arg("s")])
        elif r < 0.2:
            opts.append([b"PX", self.expire_arg("ms")])
        elif r < 0.26:
            opts.append([b"EXAT", self.expire_arg("at", past=False)])
        elif r < 0.32:
            opts.append([b"PXAT", self.expire_arg("pxat", past=False)])
        elif r < 0.4:
            opts.append([b"KEEPTTL"])
        if self.rng.random() < 0.06:   # something invalid
            opts.append(self.pick([[b"NX"], [b"XX"], [b"EX", b"10"],
                                   [b"KEEPTTL"], [b"FOO"], [b"PX"],
                                   [b"GET"], [b"ex", b"100000"]]))
        self.rng.shuffle(opts)
        for o in opts:
            args += o
        return Cmd(args)

    def g_get(self, fam):
        return Cmd([b"GET", self.key(fam)])

    def g_setnx(self, fam):
        return Cmd([b"SETNX", self.key(fam), self.value()])

    def g_setex(self, fam):
        if self.rng.random() < 0.5:
            return Cmd([b"SETEX", self.key(fam), self.expire_arg("s"),
                        self.value()])
        return Cmd([b"PSETEX", self.key(fam), self.expire_arg("ms"),
                    self.value()])

    def g_getset(self, fam):
        return Cmd([b"GETSET", self.key(fam), self.value()])

    def g_getdel(self, fam):
        return Cmd([b"GETDEL", self.key(fam)])

    def g_getex(self, fam):
        args = [b"GETEX", self.key(fam)]
        r = self.rng.random()
        if r < 0.15:
            args += [b"EX", self.expire_arg("s")]
        elif r < 0.3:
            args += [b"PX", self.expire_arg("ms")]
        elif r < 0.4:
            args += [b"EXAT", self.expire_arg("at")]
        elif r < 0.5:
            args += [b"PXAT", self.expire_arg("pxat")]
        elif r < 0.65:
            args += [b"PERSIST"]
        elif r < 0.72:
            args += self.pick([[b"EX"], [b"PERSIST", b"EX", b"10"],
                               [b"KEEPTTL"], [b"EX", b"100000", b"PX",
                                              b"100000"], [b"BAD"]])
        return Cmd(args)

    def g_mget(self, fam):
        return Cmd([b"MGET"] + self.keys(fam, 1, 6))

    def g_mset(self, fam):
        args = [b"MSET"]
        for k in self.keys(fam, 1, 4):
            args += [k, self.value()]
        return Cmd(args)

    def g_msetnx(self, fam):
        args = [b"MSETNX"]
        for k in self.keys(fam, 1, 3):
            args += [k, self.value()]
        return Cmd(args)

    def g_append(self, fam):
        return Cmd([b"APPEND", self.key(fam),
                    self.pick(SHORT_VALUES[:12] + [b"1", b"23"])])

    def g_strlen(self, fam):
        return Cmd([b"STRLEN", self.key(fam)])

    def g_getrange(self, fam):
        return Cmd([b"GETRANGE", self.key(fam), self.index(), self.index()])

    def g_setrange(self, fam):
        r = self.rng.random()
        if r < 0.85:
            off = b"%d" % self.rng.randint(0, 40)
        elif r < 0.9:
            off = b"%d" % self.rng.randint(100, 3000)
        else:
            off = self.pick([b"-1", b"abc", b"536870912", b"536870911",
                             b"9223372036854775807", b"4294967296"])
        val = self.pick(SHORT_VALUES[:10] + [b"", b"", b"12"])
        if off in (b"536870911",) and val:
            val = b"xy"                 # 512 MB + 1: the size error
        if off in (b"536870912", b"4294967296", b"9223372036854775807") \
                and not val:
            val = b"v"                  # never allocate 512 MB
        return Cmd([b"SETRANGE", self.key(fam), off, val])

    def g_incr(self, fam):
        return Cmd([self.pick([b"INCR", b"DECR"]), self.key(fam)])

    def g_incrby(self, fam):
        r = self.rng.random()
        if r < 0.8:
            n = b"%d" % self.rng.randint(-1000, 1000)
        else:
            n = self.pick(EDGE_INTS)
        return Cmd([self.pick([b"INCRBY", b"DECRBY"]), self.key(fam), n])

    def g_incrbyfloat(self, fam):
        r = self.rng.random()
        if r < 0.6:
            n = b"%d.%d" % (self.rng.randint(-100, 100),
                            self.rng.randint(0, 99))
        else:
            n = self.pick(EDGE_FLOATS)
        return Cmd([b"INCRBYFLOAT", self.key(fam), n])

    def g_setnum(self, fam):
        v = self.pick([b"%d" % self.rng.randint(-50, 50),
                       b"9223372036854775806", b"-9223372036854775807",
                       b"9223372036854775807", b"1.5", b"10.0", b"1e3",
                       b"-0", b"007", b"3.0000000000000004"])
        return Cmd([b"SET", self.key(fam), v])

    STRINGS_ARITY = [
        [b"GET"], [b"GET", b"k0", b"k1"], [b"SET", b"k0"], [b"SET"],
        [b"SETNX", b"k0"], [b"SETEX", b"k0", b"10"], [b"PSETEX", b"k0"],
        [b"GETSET", b"k0"], [b"GETDEL"], [b"GETEX"], [b"MGET"],
        [b"MSET"], [b"MSET", b"k0"], [b"MSET", b"k0", b"v", b"k1"],
        [b"MSETNX", b"k0"], [b"APPEND", b"k0"], [b"STRLEN"],
        [b"STRLEN", b"k0", b"k1"], [b"GETRANGE", b"k0", b"0"],
        [b"SETRANGE", b"k0", b"0"], [b"INCR"], [b"DECR", b"k0", b"1"],
        [b"INCRBY", b"k0"], [b"DECRBY", b"k0", b"1", b"2"],
        [b"INCRBYFLOAT", b"k0"], [b"SUBSTR", b"k0", b"0"],
    ]

    def g_strings_arity(self, fam):
        return self.arity(fam, self.STRINGS_ARITY)

    # -------------------------------------------------------- base/keys
    def g_base(self, fam):
        r = self.rng.random()
        if r < 0.25:
            return Cmd([b"PING"] + ([self.value()] if self.rng.random() < 0.5
                                    else []))
        if r < 0.45:
            return Cmd([b"ECHO", self.value()])
        if r < 0.65:
            return Cmd([b"DBSIZE"])
        if r < 0.75:
            return Cmd([b"EXISTS"] + self.keys(fam, 1, 4))
        return Cmd(self.pick([[b"PING", b"a", b"b"], [b"ECHO"],
                              [b"ECHO", b"a", b"b"], [b"DBSIZE", b"x"],
                              [b"NOSUCHCOMMAND"], [b"NOSUCHCOMMAND", b"a"],
                              [b"GETT", b"k0"], [b"EXISTS"],
                              [b"FLUSHDB", b"BAD"], [b"SELECT"]]))

    def keys_table(self):
        return [
            (4, self.g_del), (3, self.g_exists), (2, self.g_touch),
            (4, self.g_type), (2, self.g_keys), (2, self.g_scan),
            (1, self.g_randomkey), (2, self.g_rename), (3, self.g_select),
            (3, self.g_base), (0.08, self.g_flushdb),
            (1, self.g_keys_arity),
            # keep some strings around even when only 'keys' is selected
            (3, lambda fam: self.g_set("strings")),
            (1, lambda fam: self.g_get("strings")),
        ]

    def g_del(self, fam):
        return Cmd([self.pick([b"DEL", b"UNLINK"])] + self.keys(fam, 1, 3))

    def g_exists(self, fam):
        return Cmd([b"EXISTS"] + self.keys(fam, 1, 5))

    def g_touch(self, fam):
        return Cmd([b"TOUCH"] + self.keys(fam, 1, 4))

    def g_type(self, fam):
        k = self.key(fam) if self.rng.random() < 0.9 else self.pick(LEX_KEYS)
        return Cmd([b"TYPE", k])

    def g_keys(self, fam):
        return Cmd([b"KEYS", self.pick(PATTERNS)], check="unordered")

    def g_scan(self, fam):
        # Only cursor 0 or an invalid one: any other number is a position
        # in the server's own table, meaningless to compare.
        args = [b"SCAN", b"0" if self.rng.random() < 0.95 else
                self.pick([b"abc", b"", b"1.5", b"0x1"])]
        args += self.scan_opts(with_type=True)
        return Cmd(args, check="scan", end=True, opt={"pairs": False})

    def scan_opts(self, with_type=False):
        opts = []
        if self.rng.random() < 0.4:
            opts.append([b"MATCH", self.pick(PATTERNS + [b"f*", b"m*", b"1*",
                                                         b"*1"])])
        if self.rng.random() < 0.4:
            opts.append([b"COUNT", self.pick([b"1", b"2", b"5", b"10",
                                              b"100", b"0", b"-1", b"abc"])])
        if with_type and self.rng.random() < 0.3:
            opts.append([b"TYPE", self.pick(TYPES)])
        if self.rng.random() < 0.03:
            opts.append(self.pick([[b"MATCH"], [b"BAD", b"1"], [b"COUNT"]]))
        self.rng.shuffle(opts)
        return [a for o in opts for a in o]

    def g_randomkey(self, fam):
        return [Cmd([b"KEYS", b"*"], check="unordered"),
                Cmd([b"RANDOMKEY"], check="randomkey", ref=-1)]

    def g_rename(self, fam):
        src = self.key(fam)
        dst = src if self.rng.random() < 0.1 else self.key(fam)
        return Cmd([self.pick([b"RENAME", b"RENAMENX"]), src, dst])

    def g_select(self, fam):
        r = self.rng.random()
        if r < 0.9:
            db = b"%d" % self.rng.randrange(NDB)
        else:
            db = self.pick([b"16", b"-1", b"abc", b"", b"1.0",
                            b"9223372036854775808"])
        return Cmd([b"SELECT", db])

    def g_flushdb(self, fam):
        return Cmd([b"FLUSHDB"] + ([self.pick([b"SYNC", b"ASYNC"])]
                                   if self.rng.random() < 0.5 else []))

    KEYS_ARITY = [
        [b"DEL"], [b"UNLINK"], [b"EXISTS"], [b"TOUCH"], [b"TYPE"],
        [b"TYPE", b"k0", b"k1"], [b"KEYS"], [b"KEYS", b"*", b"x"],
        [b"SCAN"], [b"RANDOMKEY", b"x"], [b"RENAME", b"k0"],
        [b"RENAMENX", b"k0"], [b"RENAME", b"k0", b"k1", b"k2"],
        [b"SELECT", b"0", b"1"], [b"DBSIZE", b"0"],
    ]

    def g_keys_arity(self, fam):
        return self.arity(fam, self.KEYS_ARITY)

    # ---------------------------------------------------------------- expire
    def expire_table(self):
        return [
            (6, self.g_expire), (4, self.g_ttl), (2, self.g_persist),
            (3, self.g_set), (2, self.g_getex), (1, self.g_setex),
            (1, self.g_expire_arity), (1, self.g_get),
        ]

    def g_expire(self, fam):
        cmd, unit = self.pick([(b"EXPIRE", "s"), (b"PEXPIRE", "ms"),
                               (b"EXPIREAT", "at"), (b"PEXPIREAT", "pxat")])
        args = [cmd, self.key(fam), self.expire_arg(unit)]
        r = self.rng.random()
        if r < 0.4:
            args.append(self.pick([b"NX", b"XX", b"GT", b"LT"]))
        elif r < 0.48:
            args += self.pick([[b"NX", b"XX"], [b"GT", b"LT"], [b"NX", b"GT"],
                               [b"XX", b"GT"], [b"XX", b"LT"], [b"FOO"],
                               [b"nx"], [b"GT", b"GT"]])
        return Cmd(args)

    def g_ttl(self, fam):
        name = self.pick([b"TTL", b"PTTL", b"EXPIRETIME", b"PEXPIRETIME"])
        tol = TTL_TOL_MS if name.startswith(b"P") else TTL_TOL_S
        return Cmd([name, self.key(fam)], check="ttl", tol=tol)

    def g_persist(self, fam):
        return Cmd([b"PERSIST", self.key(fam)])

    EXPIRE_ARITY = [
        [b"EXPIRE", b"k0"], [b"PEXPIRE"], [b"EXPIREAT", b"k0"],
        [b"PEXPIREAT", b"k0"], [b"TTL"], [b"PTTL", b"k0", b"k1"],
        [b"EXPIRETIME"], [b"PEXPIRETIME", b"a", b"b"], [b"PERSIST"],
        [b"PERSIST", b"k0", b"k1"],
    ]

    def g_expire_arity(self, fam):
        return self.arity(fam, self.EXPIRE_ARITY)

    # ---------------------------------------------------------------- lists
    def lists_table(self):
        return [
            (8, self.g_push), (2, self.g_pushx), (5, self.g_pop),
            (3, self.g_llen), (3, self.g_lindex), (2, self.g_lset),
            (2, self.g_linsert), (5, self.g_lrange), (1, self.g_ltrim),
            (2, self.g_lrem), (2, self.g_lpos), (1, self.g_rpoplpush),
            (2, self.g_lmove), (2, self.g_lmpop), (2, self.g_blocking_list),
            (1, self.g_lists_arity), (1, self.g_del),
        ]

    def elems(self, lo=1, hi=4):
        return [self.pick(SHORT_VALUES[:10] + [b"1", b"2", b"3", b"x"])
                for _ in range(self.rng.randint(lo, hi))]

    def g_push(self, fam):
        return Cmd([self.pick([b"LPUSH", b"RPUSH"]), self.key(fam)] +
                   self.elems())

    def g_pushx(self, fam):
        return Cmd([self.pick([b"LPUSHX", b"RPUSHX"]), self.key(fam)] +
                   self.elems())

    def g_pop(self, fam):
        args = [self.pick([b"LPOP", b"RPOP"]), self.key(fam)]
        if self.rng.random() < 0.4:
            args.append(self.count())
        return Cmd(args)

    def g_llen(self, fam):
        return Cmd([b"LLEN", self.key(fam)])

    def g_lindex(self, fam):
        return Cmd([b"LINDEX", self.key(fam), self.index()])

    def g_lset(self, fam):
        return Cmd([b"LSET", self.key(fam), self.index(),
                    self.pick(self.elems())])

    def g_linsert(self, fam):
        where = self.pick([b"BEFORE", b"AFTER", b"before", b"MIDDLE"])
        return Cmd([b"LINSERT", self.key(fam), where,
                    self.pick(self.elems()), self.pick(self.elems())])

    def g_lrange(self, fam):
        return Cmd([b"LRANGE", self.key(fam), self.index(), self.index()])

    def g_ltrim(self, fam):
        return Cmd([b"LTRIM", self.key(fam), self.index(), self.index()])

    def g_lrem(self, fam):
        return Cmd([b"LREM", self.key(fam), self.int_arg(-3, 3),
                    self.pick(self.elems())])

    def g_lpos(self, fam):
        args = [b"LPOS", self.key(fam), self.pick(self.elems())]
        opts = []
        if self.rng.random() < 0.4:
            opts.append([b"RANK", self.pick([b"1", b"2", b"-1", b"-2", b"0",
                                             b"-9223372036854775808",
                                             b"abc"])])
        if self.rng.random() < 0.4:
            opts.append([b"COUNT", self.pick([b"0", b"1", b"2", b"5",
                                              b"-1", b"abc"])])
        if self.rng.random() < 0.3:
            opts.append([b"MAXLEN", self.pick([b"0", b"1", b"3", b"-1",
                                               b"abc"])])
        if self.rng.random() < 0.03:
            opts.append([b"FOO"])
        self.rng.shuffle(opts)
        return Cmd(args + [a for o in opts for a in o])

    def g_rpoplpush(self, fam):
        return Cmd([b"RPOPLPUSH", self.key(fam), self.key(fam)])

    def g_lmove(self, fam):
        return Cmd([b"LMOVE", self.key(fam), self.key(fam),
                    self.pick([b"LEFT", b"RIGHT", b"left", b"UP"]),
                    self.pick([b"LEFT", b"RIGHT"])])

    def numkeys_args(self, fam, keys):
        r = self.rng.random()
        if r < 0.9:
            return [b"%d" % len(keys)] + keys
        return [self.pick([b"0", b"-1", b"abc", b"%d" % (len(keys) + 5)])] \
            + keys

    def g_lmpop(self, fam):
        args = [b"LMPOP"] + self.numkeys_args(fam, self.keys(fam, 1, 3))
        args.append(self.pick([b"LEFT", b"RIGHT", b"left", b"MIDDLE"]))
        if self.rng.random() < 0.5:
            args += [b"COUNT", self.count()]
        return Cmd(args)

    # Keys of one slot ({t}), lists and other types: BLPOP, BRPOP and
    # BLMPOP on keys of several shards reply CROSSSLOT in ember (as in
    # Redis Cluster), so their multi-key forms stay within one slot.
    SAME_SLOT_KEYS = [b"{t}l", b"{t}l2", b"{t}k", b"{t}s"]

    def g_blocking_list(self, fam):
        # Pushed first, so never blocks (see note 8).
        keys = self.keys(fam, 1, 3)
        if len(keys) > 1:
            keys = [self.pick(self.SAME_SLOT_KEYS) for _ in keys]
        push = Cmd([b"RPUSH", self.pick(keys)] + self.elems(1, 3))
        which = self.rng.randrange(5)
        if which == 0:
            blk = [b"BLPOP"] + keys + [self.timeout()]
        elif which == 1:
            blk = [b"BRPOP"] + keys + [self.timeout()]
        elif which == 2:
            src = push.args[1]
            blk = [b"BRPOPLPUSH", src, self.key(fam), self.timeout()]
        elif which == 3:
            src = push.args[1]
            blk = [b"BLMOVE", src, self.key(fam),
                   self.pick([b"LEFT", b"RIGHT"]),
                   self.pick([b"LEFT", b"RIGHT"]), self.timeout()]
        else:
            blk = [b"BLMPOP", self.timeout(), b"%d" % len(keys)] + keys + \
                [self.pick([b"LEFT", b"RIGHT"])]
            if self.rng.random() < 0.5:
                blk += [b"COUNT", self.pick([b"1", b"2", b"10", b"0"])]
        return [push, Cmd(blk)]

    LISTS_ARITY = [
        [b"LPUSH", b"k5"], [b"RPUSH"], [b"LPUSHX", b"k5"], [b"LPOP"],
        [b"RPOP", b"k5", b"1", b"2"], [b"LLEN"], [b"LINDEX", b"k5"],
        [b"LSET", b"k5", b"0"], [b"LINSERT", b"k5", b"BEFORE", b"a"],
        [b"LRANGE", b"k5", b"0"], [b"LTRIM", b"k5"], [b"LREM", b"k5", b"0"],
        [b"LPOS", b"k5"], [b"RPOPLPUSH", b"k5"], [b"LMOVE", b"k5", b"k6"],
        [b"LMPOP", b"1"], [b"LMPOP", b"1", b"k5"], [b"BLPOP", b"k5"],
        [b"BLMOVE", b"a", b"b", b"LEFT", b"LEFT"],
    ]

    def g_lists_arity(self, fam):
        return self.arity(fam, self.LISTS_ARITY)

    # ---------------------------------------------------------------- hashes
    def hashes_table(self):
        return [
            (8, self.g_hset), (2, self.g_hsetnx), (5, self.g_hget),
            (2, self.g_hmget), (1, self.g_hmset), (3, self.g_hdel),
            (2, self.g_hlen), (2, self.g_hstrlen), (2, self.g_hexists),
            (2, self.g_hkeys), (2, self.g_hgetall), (3, self.g_hincrby),
            (2, self.g_hincrbyfloat), (2, self.g_hrandfield),
            (1, self.g_hscan), (1, self.g_hashes_arity), (1, self.g_del),
        ]

    def field(self, k=None):
        return self.pick(FIELDS_WIDE if k in WIDE_KEYS else FIELDS)

    def bulk(self, k, lo, hi):
        """How many members an adding command carries: lo..hi, and on a
        WIDE_KEYS key now and then many more."""
        if k in WIDE_KEYS and self.rng.random() < 0.08:
            return self.rng.randint(8, 24)
        return self.rng.randint(lo, hi)

    def hvalue(self):
        if self.rng.random() < 0.3:
            return b"%d" % self.rng.randint(-20, 20)
        return self.value()

    def g_hset(self, fam):
        k = self.key(fam)
        args = [b"HSET", k]
        for _ in range(self.bulk(k, 1, 4)):
            args += [self.field(k), self.hvalue()]
        if self.rng.random() < 0.04:
            args.append(self.field(k))      # odd count: error
        return Cmd(args)

    def g_hsetnx(self, fam):
        k = self.key(fam)
        return Cmd([b"HSETNX", k, self.field(k), self.hvalue()])

    def g_hget(self, fam):
        k = self.key(fam)
        return Cmd([b"HGET", k, self.field(k)])

    def g_hmget(self, fam):
        k = self.key(fam)
        return Cmd([b"HMGET", k] +
                   [self.field(k) for _ in range(self.rng.randint(1, 4))])

    def g_hmset(self, fam):
        k = self.key(fam)
        args = [b"HMSET", k]
        for _ in range(self.bulk(k, 1, 3)):
            args += [self.field(k), self.hvalue()]
        return Cmd(args)

    def g_hdel(self, fam):
        k = self.key(fam)
        return Cmd([b"HDEL", k] +
                   [self.field(k) for _ in range(self.rng.randint(1, 3))])

    def g_hlen(self, fam):
        return Cmd([b"HLEN", self.key(fam)])

    def g_hstrlen(self, fam):
        k = self.key(fam)
        return Cmd([b"HSTRLEN", k, self.field(k)])

    def g_hexists(self, fam):
        k = self.key(fam)
        return Cmd([b"HEXISTS", k, self.field(k)])

    def g_hkeys(self, fam):
        return Cmd([self.pick([b"HKEYS", b"HVALS"]), self.key(fam)],
                   check="unordered")

    def g_hgetall(self, fam):
        return Cmd([b"HGETALL", self.key(fam)], check="pairs")

    def g_hincrby(self, fam):
        n = b"%d" % self.rng.randint(-50, 50) if self.rng.random() < 0.8 \
            else self.pick(EDGE_INTS)
        k = self.key(fam)
        return Cmd([b"HINCRBY", k, self.field(k), n])

    def g_hincrbyfloat(self, fam):
        n = b"%d.%d" % (self.rng.randint(-20, 20), self.rng.randint(0, 99)) \
            if self.rng.random() < 0.6 else self.pick(EDGE_FLOATS)
        k = self.key(fam)
        return Cmd([b"HINCRBYFLOAT", k, self.field(k), n])

    def g_hrandfield(self, fam):
        k = self.key(fam)
        args = [b"HRANDFIELD", k]
        count = None
        withvalues = False
        r = self.rng.random()
        if r < 0.75:
            count = self.rng.randint(-12, 12)
            args.append(b"%d" % count)
            if self.rng.random() < 0.5:
                args.append(b"WITHVALUES")
                withvalues = True
        elif r < 0.85:
            args += self.pick([[b"abc"], [b"1", b"WITHSCORES"],
                               [b"-9223372036854775808"], [b"1", b"2"]])
            count = "invalid"
        return [Cmd([b"HGETALL", k], check="pairs"),
                Cmd(args, check="hrandfield", ref=-1,
                    opt={"count": count, "withvalues": withvalues})]

    def g_hscan(self, fam):
        args = [b"HSCAN", self.key(fam), b"0"] + self.scan_opts()
        return Cmd(args, check="scan", end=True, opt={"pairs": True})

    HASHES_ARITY = [
        [b"HSET", b"k9"], [b"HSET", b"k9", b"f"], [b"HSETNX", b"k9", b"f"],
        [b"HGET", b"k9"], [b"HMGET", b"k9"], [b"HMSET", b"k9", b"f"],
        [b"HDEL", b"k9"], [b"HLEN"], [b"HSTRLEN", b"k9"],
        [b"HEXISTS", b"k9"], [b"HKEYS"], [b"HVALS", b"a", b"b"],
        [b"HGETALL"], [b"HINCRBY", b"k9", b"f"],
        [b"HINCRBYFLOAT", b"k9", b"f"], [b"HRANDFIELD"],
        [b"HSCAN", b"k9"],
    ]

    def g_hashes_arity(self, fam):
        return self.arity(fam, self.HASHES_ARITY)

    # ---------------------------------------------------------------- sets
    def sets_table(self):
        return [
            (8, self.g_sadd), (3, self.g_srem), (2, self.g_scard),
            (2, self.g_sismember), (2, self.g_smismember),
            (2, self.g_smembers), (2, self.g_spop), (2, self.g_srandmember),
            (2, self.g_smove), (3, self.g_setop), (2, self.g_setopstore),
            (2, self.g_sintercard), (1, self.g_sscan),
            (1, self.g_sets_arity), (1, self.g_del),
        ]

    def member(self, k=None):
        return self.pick(SMEMBERS_WIDE if k in WIDE_KEYS else SMEMBERS_POOL)

    def members(self, k=None, lo=1, hi=4):
        return [self.member(k) for _ in range(self.rng.randint(lo, hi))]

    def g_sadd(self, fam):
        k = self.key(fam)
        return Cmd([b"SADD", k] + [self.member(k)
                                   for _ in range(self.bulk(k, 1, 4))])

    def g_srem(self, fam):
        k = self.key(fam)
        return Cmd([b"SREM", k] + self.members(k))

    def g_scard(self, fam):
        return Cmd([b"SCARD", self.key(fam)])

    def g_sismember(self, fam):
        k = self.key(fam)
        return Cmd([b"SISMEMBER", k, self.member(k)])

    def g_smismember(self, fam):
        k = self.key(fam)
        return Cmd([b"SMISMEMBER", k] + self.members(k))

    def g_smembers(self, fam):
        return Cmd([b"SMEMBERS", self.key(fam)], check="unordered")

    def g_spop(self, fam):
        k = self.key(fam)
        args = [b"SPOP", k]
        count = None
        r = self.rng.random()
        if r < 0.6:
            count = self.rng.randint(0, 10)
            args.append(b"%d" % count)
        elif r < 0.68:
            args.append(self.pick([b"-1", b"abc", b"1.5"]))
            count = "invalid"
        elif r < 0.7:
            args += [b"1", b"2"]
            count = "invalid"
        return [Cmd([b"SMEMBERS", k], check="unordered"),
                Cmd(args, check="spop", ref=-1, end=True,
                    opt={"count": count, "key": k})]

    def g_srandmember(self, fam):
        k = self.key(fam)
        args = [b"SRANDMEMBER", k]
        count = None
        r = self.rng.random()
        if r < 0.7:
            count = self.rng.randint(-12, 12)
            args.append(b"%d" % count)
        elif r < 0.8:
            args.append(self.pick([b"abc", b"-9223372036854775808", b""]))
            count = "invalid"
        return [Cmd([b"SMEMBERS", k], check="unordered"),
                Cmd(args, check="srandmember", ref=-1,
                    opt={"count": count})]

    def g_smove(self, fam):
        src = self.key(fam)
        return Cmd([b"SMOVE", src, self.key(fam), self.member(src)])

    def g_setop(self, fam):
        return Cmd([self.pick([b"SINTER", b"SUNION", b"SDIFF"])] +
                   self.keys(fam, 1, 4), check="unordered")

    def g_setopstore(self, fam):
        return Cmd([self.pick([b"SINTERSTORE", b"SUNIONSTORE",
                               b"SDIFFSTORE"]), self.key(fam)] +
                   self.keys(fam, 1, 3))

    def g_sintercard(self, fam):
        args = [b"SINTERCARD"] + self.numkeys_args(fam, self.keys(fam, 1, 3))
        if self.rng.random() < 0.4:
            args += [b"LIMIT", self.pick([b"0", b"1", b"2", b"-1", b"abc"])]
        return Cmd(args)

    def g_sscan(self, fam):
        args = [b"SSCAN", self.key(fam), b"0"] + self.scan_opts()
        return Cmd(args, check="scan", end=True, opt={"pairs": False})

    SETS_ARITY = [
        [b"SADD", b"k13"], [b"SREM", b"k13"], [b"SCARD"],
        [b"SISMEMBER", b"k13"], [b"SMISMEMBER", b"k13"], [b"SMEMBERS"],
        [b"SPOP"], [b"SRANDMEMBER"], [b"SMOVE", b"a", b"b"], [b"SINTER"],
        [b"SUNIONSTORE", b"d"], [b"SINTERCARD"], [b"SINTERCARD", b"1"],
        [b"SSCAN", b"k13"], [b"SDIFF"],
    ]

    def g_sets_arity(self, fam):
        return self.arity(fam, self.SETS_ARITY)

    # ---------------------------------------------------------------- zsets
    def zsets_table(self):
        return [
            (8, self.g_zadd), (2, self.g_zincrby), (2, self.g_zcard),
            (2, self.g_zcount), (3, self.g_zscore), (2, self.g_zrank),
            (5, self.g_zrange), (1, self.g_zrangestore),
            (2, self.g_zrem), (2, self.g_zremrange), (2, self.g_zpop),
            (1, self.g_zmpop), (1, self.g_blocking_zset),
            (2, self.g_zsetop), (1, self.g_zsetopstore),
            (1, self.g_zintercard), (2, self.g_zrandmember),
            (1, self.g_zscan), (4, self.g_lex), (1, self.g_zsets_arity),
            (1, self.g_del),
        ]

    def zmember(self, k=None):
        return self.pick(ZMEMBERS_WIDE if k in WIDE_KEYS else ZMEMBERS)

    def score(self):
        r = self.rng.random()
        if r < 0.5:
            return b"%d" % self.rng.randint(-10, 10)
        if r < 0.95:
            return self.pick(SCORES)
        return self.pick(BAD_SCORES)

    def score_bound(self):
        r = self.rng.random()
        if r < 0.6:
            v = self.pick([b"%d" % self.rng.randint(-10, 10), b"2.5",
                           b"0.1", b"1e2"])
            return (b"(" + v) if self.rng.random() < 0.3 else v
        if r < 0.95:
            return self.pick([b"-inf", b"+inf", b"inf", b"(-inf", b"(+inf",
                              b"-1", b"0"])
        return self.pick([b"abc", b"((1", b"nan", b"", b"[1"])

    def lex_bound(self):
        if self.rng.random() < 0.93:
            r = self.rng.random()
            if r < 0.15:
                return self.pick([b"-", b"+"])
            return self.pick([b"[", b"("]) + self.pick(LEX_MEMBERS)
        return self.pick([b"a", b"", b"{a", b"-a"])

    def g_zadd(self, fam):
        k = self.key(fam)
        args = [b"ZADD", k]
        flags = []
        r = self.rng.random()
        if r < 0.1:
            flags.append(b"NX")
        elif r < 0.2:
            flags.append(b"XX")
        r = self.rng.random()
        if r < 0.1:
            flags.append(b"GT")
        elif r < 0.2:
            flags.append(b"LT")
        if self.rng.random() < 0.2:
            flags.append(b"CH")
        incr = self.rng.random() < 0.1
        if incr:
            flags.append(b"INCR")
        self.rng.shuffle(flags)
        args += flags
        n = 1 if incr and self.rng.random() < 0.9 else self.bulk(k, 1, 4)
        for _ in range(n):
            args += [self.score(), self.zmember(k)]
        if self.rng.random() < 0.03:
            args.append(self.zmember(k))    # odd: syntax error
        return Cmd(args)

    def g_zincrby(self, fam):
        inc = self.score() if self.rng.random() < 0.9 else \
            self.pick([b"inf", b"-inf"])
        k = self.key(fam)
        return Cmd([b"ZINCRBY", k, inc, self.zmember(k)])

    def g_zcard(self, fam):
        return Cmd([b"ZCARD", self.key(fam)])

    def g_zcount(self, fam):
        return Cmd([b"ZCOUNT", self.key(fam), self.score_bound(),
                    self.score_bound()])

    def g_zscore(self, fam):
        if self.rng.random() < 0.6:
            k = self.key(fam)
            return Cmd([b"ZSCORE", k, self.zmember(k)])
        k = self.key(fam)
        return Cmd([b"ZMSCORE", k] +
                   [self.zmember(k) for _ in range(self.rng.randint(1, 4))])

    def g_zrank(self, fam):
        name = self.pick([b"ZRANK", b"ZREVRANK"])
        k = self.key(fam)
        return Cmd([name, k, self.zmember(k)])

    def limit(self):
        return [b"LIMIT", self.pick([b"0", b"1", b"2", b"-1", b"5"]),
                self.pick([b"1", b"2", b"3", b"-1", b"0", b"10"])]

    def g_zrange(self, fam):
        k = self.key(fam)
        which = self.rng.randrange(5)
        if which == 0:      # ZRANGE by rank / by score
            args = [b"ZRANGE", k]
            byscore = self.rng.random() < 0.4
            rev = self.rng.random() < 0.3
            if byscore:
                args += [self.score_bound(), self.score_bound(), b"BYSCORE"]
            else:
                args += [self.index(), self.index()]
            if rev:
                args.append(b"REV")
            if self.rng.random() < 0.3:
                args += self.limit()    # without BYSCORE: syntax error
            if self.rng.random() < 0.5:
                args.append(b"WITHSCORES")
            return Cmd(args)
        if which == 1:
            args = [self.pick([b"ZREVRANGE", b"ZRANGE"]), k, self.index(),
                    self.index()]
            if self.rng.random() < 0.5:
                args.append(b"WITHSCORES")
            return Cmd(args)
        args = [self.pick([b"ZRANGEBYSCORE", b"ZREVRANGEBYSCORE"]), k,
                self.score_bound(), self.score_bound()]
        opts = []
        if self.rng.random() < 0.5:
            opts.append([b"WITHSCORES"])
        if self.rng.random() < 0.4:
            opts.append(self.limit())
        self.rng.shuffle(opts)
        return Cmd(args + [a for o in opts for a in o])

    def g_zrangestore(self, fam):
        args = [b"ZRANGESTORE", self.key(fam), self.key(fam)]
        if self.rng.random() < 0.5:
            args += [self.score_bound(), self.score_bound(), b"BYSCORE"]
            if self.rng.random() < 0.3:
                args += self.limit()
        else:
            args += [self.index(), self.index()]
        if self.rng.random() < 0.3:
            args.append(b"REV")
        if self.rng.random() < 0.05:
            args.append(b"WITHSCORES")    # not allowed: syntax error
        return Cmd(args)

    def g_zrem(self, fam):
        k = self.key(fam)
        return Cmd([b"ZREM", k] +
                   [self.zmember(k) for _ in range(self.rng.randint(1, 3))])

    def g_zremrange(self, fam):
        if self.rng.random() < 0.5:
            return Cmd([b"ZREMRANGEBYRANK", self.key(fam), self.index(),
                        self.index()])
        return Cmd([b"ZREMRANGEBYSCORE", self.key(fam), self.score_bound(),
                    self.score_bound()])

    def g_zpop(self, fam):
        args = [self.pick([b"ZPOPMIN", b"ZPOPMAX"]), self.key(fam)]
        if self.rng.random() < 0.5:
            args.append(self.count())
        return Cmd(args)

    def g_zmpop(self, fam):
        args = [b"ZMPOP"] + self.numkeys_args(fam, self.keys(fam, 1, 3))
        args.append(self.pick([b"MIN", b"MAX", b"min", b"MIDDLE"]))
        if self.rng.random() < 0.5:
            args += [b"COUNT", self.count()]
        return Cmd(args)

    # Blocking pops whose keys live on different shards reply CROSSSLOT in
    # ember, as in Redis Cluster (a blocked client waits at one owner), so
    # they take one key or keys sharing a hash tag.
    BLOCKING_ZSET_GROUPS = [[b"{t}z", b"{t}s", b"{t}k"],
                            [b"{u}z", b"{u}x", b"{u}s"]]

    def g_blocking_zset(self, fam):
        if self.rng.random() < 0.4:
            keys = [self.key(fam)]
        else:
            group = self.pick(self.BLOCKING_ZSET_GROUPS)
            keys = [group[0] if self.rng.random() < 0.6 else self.pick(group)
                    for _ in range(self.rng.randint(1, 3))]
        k = self.pick(keys)
        push = Cmd([b"ZADD", k, self.pick(SCORES[:10]), self.zmember(k)])
        which = self.rng.randrange(3)
        if which == 0:
            blk = [b"BZPOPMIN"] + keys + [self.timeout()]
        elif which == 1:
            blk = [b"BZPOPMAX"] + keys + [self.timeout()]
        else:
            blk = [b"BZMPOP", self.timeout(), b"%d" % len(keys)] + keys + \
                [self.pick([b"MIN", b"MAX"])]
            if self.rng.random() < 0.5:
                blk += [b"COUNT", self.pick([b"1", b"2", b"10", b"0"])]
        return [push, Cmd(blk)]

    def zsetop_tail(self, nkeys, store):
        opts = []
        if self.rng.random() < 0.3:
            w = [self.pick([b"1", b"2", b"0", b"-1", b"0.5", b"inf"])
                 for _ in range(nkeys)]
            if self.rng.random() < 0.05:
                w = w[:-1]              # too few weights: syntax error
            opts.append([b"WEIGHTS"] + w)
        if self.rng.random() < 0.3:
            opts.append([b"AGGREGATE", self.pick([b"SUM", b"MIN", b"MAX",
                                                  b"sum", b"AVG"])])
        if not store and self.rng.random() < 0.5:
            opts.append([b"WITHSCORES"])
        self.rng.shuffle(opts)
        return [a for o in opts for a in o]

    def g_zsetop(self, fam):
        name = self.pick([b"ZUNION", b"ZINTER", b"ZDIFF"])
        keys = self.keys(fam, 1, 3)
        args = [name] + self.numkeys_args(fam, keys)
        if name == b"ZDIFF":
            if self.rng.random() < 0.5:
                args.append(b"WITHSCORES")
        else:
            args += self.zsetop_tail(len(keys), False)
        return Cmd(args)

    def g_zsetopstore(self, fam):
        name = self.pick([b"ZUNIONSTORE", b"ZINTERSTORE", b"ZDIFFSTORE"])
        keys = self.keys(fam, 1, 3)
        args = [name, self.key(fam)] + self.numkeys_args(fam, keys)
        if name != b"ZDIFFSTORE":
            args += self.zsetop_tail(len(keys), True)
        return Cmd(args)

    def g_zintercard(self, fam):
        args = [b"ZINTERCARD"] + self.numkeys_args(fam, self.keys(fam, 1, 3))
        if self.rng.random() < 0.4:
            args += [b"LIMIT", self.pick([b"0", b"1", b"2", b"-1", b"abc"])]
        return Cmd(args)

    def g_zrandmember(self, fam):
        k = self.key(fam)
        args = [b"ZRANDMEMBER", k]
        count = None
        withscores = False
        r = self.rng.random()
        if r < 0.75:
            count = self.rng.randint(-12, 12)
            args.append(b"%d" % count)
            if self.rng.random() < 0.5:
                args.append(b"WITHSCORES")
                withscores = True
        elif r < 0.85:
            args += self.pick([[b"abc"], [b"1", b"WITHVALUES"],
                               [b"-9223372036854775808"]])
            count = "invalid"
        return [Cmd([b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"]),
                Cmd(args, check="zrandmember", ref=-1,
                    opt={"count": count, "withscores": withscores})]

    def g_zscan(self, fam):
        args = [b"ZSCAN", self.key(fam), b"0"] + self.scan_opts()
        return Cmd(args, check="scan", end=True, opt={"pairs": True})

    def g_lex(self, fam):
        """BYLEX commands on the score-0 "lex:" keys only (note 9)."""
        k = self.pick(LEX_KEYS)
        which = self.rng.randrange(9)
        if which <= 1:
            args = [b"ZADD", k]
            if self.rng.random() < 0.2:
                args.append(self.pick([b"NX", b"XX", b"CH"]))
            for _ in range(self.rng.randint(1, 4)):
                args += [b"0", self.pick(LEX_MEMBERS)]
            return Cmd(args)
        if which == 2:
            return Cmd([b"ZLEXCOUNT", k, self.lex_bound(), self.lex_bound()])
        if which == 3:
            args = [self.pick([b"ZRANGEBYLEX", b"ZREVRANGEBYLEX"]), k,
                    self.lex_bound(), self.lex_bound()]
            if self.rng.random() < 0.4:
                args += self.limit()
            return Cmd(args)
        if which == 4:
            args = [b"ZRANGE", k, self.lex_bound(), self.lex_bound(),
                    b"BYLEX"]
            if self.rng.random() < 0.4:
                args.append(b"REV")
            if self.rng.random() < 0.4:
                args += self.limit()
            if self.rng.random() < 0.05:
                args.append(b"WITHSCORES")   # not allowed with BYLEX
            return Cmd(args)
        if which == 5:
            return Cmd([b"ZREMRANGEBYLEX", k, self.lex_bound(),
                        self.lex_bound()])
        if which == 6:
            args = [b"ZRANGESTORE", self.pick(LEX_KEYS), k, self.lex_bound(),
                    self.lex_bound(), b"BYLEX"]
            if self.rng.random() < 0.4:
                args.append(b"REV")
            return Cmd(args)
        if which == 7:
            return Cmd([b"ZREM", k, self.pick(LEX_MEMBERS)])
        return Cmd([self.pick([b"ZRANGE", b"ZCARD", b"ZPOPMIN"]), k] +
                   ([b"0", b"-1"] if self.rng.random() < 0.5 else []))

    ZSETS_ARITY = [
        [b"ZADD", b"k16"], [b"ZADD", b"k16", b"1"], [b"ZINCRBY", b"k16", b"1"],
        [b"ZCARD"], [b"ZCOUNT", b"k16", b"0"], [b"ZSCORE", b"k16"],
        [b"ZMSCORE", b"k16"], [b"ZRANK", b"k16"], [b"ZRANGE", b"k16", b"0"],
        [b"ZREVRANGE", b"k16"], [b"ZRANGEBYSCORE", b"k16", b"0"],
        [b"ZREM", b"k16"], [b"ZREMRANGEBYRANK", b"k16", b"0"],
        [b"ZPOPMIN"], [b"ZMPOP", b"1", b"k16"], [b"ZUNION"],
        [b"ZUNIONSTORE", b"d"], [b"ZINTERCARD"], [b"ZRANDMEMBER"],
        [b"ZSCAN", b"k16"], [b"ZLEXCOUNT", b"lex:3", b"-"],
        [b"ZRANGESTORE", b"a", b"b", b"0"], [b"BZPOPMIN", b"k16"],
    ]

    def g_zsets_arity(self, fam):
        return self.arity(fam, self.ZSETS_ARITY)


# --------------------------------------------------------------------------
# compact-encoding limits (note 12)

# name, default (Redis 7.0's, and ember's), what a "small" segment draws.
# Redis 7.0 has no set listpack: set-max-listpack-* go only to a server whose
# CONFIG GET knows them.
LIMITS = [
    (b"hash-max-listpack-entries", 512, "entries"),
    (b"hash-max-listpack-value", 64, "value"),
    (b"zset-max-listpack-entries", 128, "entries"),
    (b"zset-max-listpack-value", 64, "value"),
    (b"set-max-intset-entries", 512, "entries"),
    (b"set-max-listpack-entries", 128, "entries"),
    (b"set-max-listpack-value", 64, "value"),
    (b"list-max-listpack-size", -2, "list"),
]
OPTIONAL_LIMITS = {b"set-max-listpack-entries", b"set-max-listpack-value"}
LIMIT_MODES = ("mixed", "small", "default", "none")


def small_limit(rng, kind):
    """A low limit: mostly in the range the pools cross both ways (sizes
    up to 12-40 members, lengths 0-70 bytes), sometimes an extreme one."""
    r = rng.random()
    if kind == "entries":
        return rng.randint(4, 16) if r < 0.85 else rng.randint(0, 3)
    if kind == "value":
        return rng.randint(8, 32) if r < 0.85 else rng.randint(0, 3)
    # list-max-listpack-size: elements per quicklist node, or a byte size
    return rng.randint(1, 6) if r < 0.85 else rng.choice([-1, -2, 16])


# Encodings that are the full form of their type (for the statistics only;
# Redis 7.0 lists are always a quicklist).
FULL_ENCODINGS = {b"hash": b"hashtable", b"set": b"hashtable",
                  b"zset": b"skiplist", b"list": b"quicklist"}
COLLECTION_TYPES = (b"hash", b"set", b"zset", b"list")


def itertools_accumulate(it):
    total = 0
    for x in it:
        total += x
        yield total


# --------------------------------------------------------------------------
# comparison

def children(node):
    return node.v if node.t in "*~%>" and node.v is not None else []


def is_agg(node):
    return node.t in "*~%>" and node.v is not None


def cmp_exact(na, nb):
    return None if na.raw == nb.raw else "replies differ"


def cmp_unordered(na, nb):
    if na.is_error or nb.is_error or not is_agg(na) or not is_agg(nb):
        return cmp_exact(na, nb)
    if na.t != nb.t:
        return "aggregate types differ (%s vs %s)" % (na.t, nb.t)
    if sorted(c.raw for c in na.v) != sorted(c.raw for c in nb.v):
        return "different elements (compared as multisets)"
    return None


def pairs_of(node):
    v = node.v
    return sorted((v[i].raw, v[i + 1].raw) for i in range(0, len(v) - 1, 2))


def cmp_pairs(na, nb):
    if na.is_error or nb.is_error or not is_agg(na) or not is_agg(nb):
        return cmp_exact(na, nb)
    if na.t != nb.t:
        return "aggregate types differ (%s vs %s)" % (na.t, nb.t)
    if len(na.v) != len(nb.v) or pairs_of(na) != pairs_of(nb):
        return "different (field, value) pairs"
    return None


def cmp_ttl(na, nb, tol):
    if na.t != ":" or nb.t != ":":
        return cmp_exact(na, nb)
    a, b = int(na.v), int(nb.v)
    if a < 0 or b < 0:
        return None if a == b else "ttl differs"
    return None if abs(a - b) <= tol else "ttl differs by %d > %d" % (
        abs(a - b), tol)


def scan_diff(ea, eb, la="A", lb="B"):
    """Two full scan iterations compared as multisets (note 3); returns a
    reason or None."""
    ca, cb = Counter(ea), Counter(eb)
    if ca == cb:
        return None
    only_a = sorted(set(ca) - set(cb))[:5]
    only_b = sorted(set(cb) - set(ca))[:5]
    counts = sorted((e, ca[e], cb[e]) for e in set(ca) & set(cb)
                    if ca[e] != cb[e])[:5]
    parts = []
    if only_a:
        parts.append("only in %s %r" % (la, only_a))
    if only_b:
        parts.append("only in %s %r" % (lb, only_b))
    if counts:
        parts.append("returned a different number of times (%s, %s) %s" % (
            la, lb, ", ".join("%r: %d vs %d" % c for c in counts)))
    return "scan returned different elements (as multisets): " + \
        ", ".join(parts)


def has_repeats(elems):
    return len(set(elems)) != len(elems)


def bulk_set(node):
    """Elements of a flat aggregate of bulks as a set of payloads."""
    return set(c.v for c in children(node))


def random_check(cmd, node, ref):
    """Validity of a random reply against the content read just before on
    the same server; returns a reason or None."""
    kind, opt = cmd.check, cmd.opt
    if node.is_error or (ref is not None and ref.is_error):
        return "error"           # compared exactly by the caller
    count = opt.get("count")
    if count == "invalid":
        return "error"           # not an error reply: compare exactly
    if kind == "randomkey":
        keys = bulk_set(ref)
        if not keys:
            return None if node.v is None else "RANDOMKEY on an empty db " \
                "returned a key"
        if node.t != "$" or node.v not in keys:
            return "RANDOMKEY returned %r, not a key of the db" % (node.v,)
        return None
    if kind in ("srandmember", "spop"):
        members = bulk_set(ref)
        size = len(members)
        if count is None:
            if size == 0:
                return None if node.v is None else "member from empty set"
            if node.t != "$" or node.v not in members:
                return "%r is not a member" % (node.v,)
            return None
        got = [c.v for c in children(node)]
        if node.v is None and size == 0 and kind == "spop":
            got = []
        if any(m not in members for m in got):
            return "returned non-members"
        if count >= 0:
            want = min(count, size)
            if len(got) != want or len(set(got)) != len(got):
                return "expected %d distinct members, got %d" % (want,
                                                                 len(got))
        else:
            want = -count if size else 0
            if len(got) != want:
                return "expected %d members, got %d" % (want, len(got))
        return None
    if kind in ("hrandfield", "zrandmember"):
        if kind == "hrandfield":
            v = children(ref)
            content = {v[i].v: v[i + 1].raw for i in range(0, len(v) - 1, 2)}
            withv = opt.get("withvalues")
        else:
            v = children(ref)
            flat = []
            for c in v:     # RESP3 nests [member, score] pairs
                flat += c.v if c.t == "*" else [c]
            content = {flat[i].v: flat[i + 1].v
                       for i in range(0, len(flat) - 1, 2)}
            withv = opt.get("withscores")
        # content maps member -> payload (hash: raw bulk of the value)
        size = len(content)
        if count is None:
            if size == 0:
                return None if node.v is None else "element from empty key"
            if node.t != "$" or node.v not in content:
                return "%r is not in the key" % (node.v,)
            return None
        items = []
        if withv:
            flat = []
            for c in children(node):
                flat += c.v if c.t == "*" and c.v is not None else [c]
            if len(flat) % 2:
                return "odd number of elements with values"
            for i in range(0, len(flat), 2):
                m, val = flat[i], flat[i + 1]
                items.append(m.v)
                want = content.get(m.v)
                got = val.raw if kind == "hrandfield" else val.v
                if want is None or want != got:
                    return "value of %r does not match the key" % (m.v,)
        else:
            items = [c.v for c in children(node)]
        if any(m not in content for m in items):
            return "returned elements not in the key"
        if count >= 0:
            want = min(count, size)
            if len(items) != want or len(set(items)) != len(items):
                return "expected %d distinct elements, got %d" % (want,
                                                                  len(items))
        elif len(items) != (-count if size else 0):
            return "expected %d elements, got %d" % (-count if size else 0,
                                                     len(items))
        return None
    return "unknown check %s" % kind


def shape(node):
    """The shape two random replies must share: type and length."""
    if node.t in "*~%>" and node.v is not None:
        return (node.t, len(node.v))
    return (node.t, None if node.v is None else "value")


# --------------------------------------------------------------------------
# the run

class Desync(Exception):
    """A server sent no reply (timeout, closed connection) or bytes that are
    not RESP: the stream cannot go on on this connection."""

    def __init__(self, side, cmds, index, exc):
        super().__init__(str(exc))
        self.side, self.cmds, self.index, self.exc = side, cmds, index, exc


class StopRun(Exception):
    pass


class Mismatch(object):
    def __init__(self, where, cmd, na, nb, why, context=()):
        self.where, self.cmd, self.na, self.nb = where, cmd, na, nb
        self.why, self.context = why, list(context)


class Side(object):
    def __init__(self, label, server):
        self.label = label
        self.server = server

    def client(self, resp, timeout=30.0):
        return h.Client(self.server.host, self.server.port, resp=resp,
                        timeout=timeout)


class Run(object):
    """One differential run: one seed, one RESP version, N commands."""

    def __init__(self, a, b, args, resp, seed, out=sys.stdout):
        self.a, self.b = a, b
        self.args = args
        self.resp = resp
        self.seed = seed
        # One stream per (seed, RESP version): str seeds are hashed, so
        # seeds 1 and 2 share nothing.
        self.rng = random.Random("%d/resp%d" % (seed, resp))
        self.out = out
        self.t0 = int(time.time())
        self.gen = Gen(self.rng, args.families, self.t0)
        self.mismatches = []
        self.compared = 0
        self.by_name = {}
        self.errors_seen = 0
        self.conn_db = []
        self.sent = 0
        self.batches = 0
        self.before_final = None     # self-test hook
        self.matched = 0
        # Compact-encoding limits (note 12): their own random stream, so
        # that --limits never changes the commands sent.
        self.limit_rng = random.Random("%d/resp%d/limits" % (seed, resp))
        self.limit_names = None      # per side: the LIMITS names it knows
        self.limit_orig = None       # per side: {name: value} at the start
        self.segments = Counter()    # "small"/"default" -> commands sent
        self.segment = None
        self.next_switch = 0
        # Encoding statistics (note 13), per side.
        self.stat_clients = []
        self.next_sample = 0
        self.samples = 0
        self.enc_keys = [{}, {}]     # (type, encoding) -> {(db, key)}
        self.enc_last = [{}, {}]     # (db, key) -> (type, encoding)
        self.enc_moves = [Counter(), Counter()]  # (type, "full"/"compact")
        self.scan_forgiven = Counter()  # side label -> forgiven SCAN repeats
        self.zset_enc_diff = set()   # (db, key): zset encodings differed

    def say(self, msg):
        if not self.args.quiet:
            self.out.write(msg + "\n")
            self.out.flush()

    # -- plumbing
    def connect(self):
        self.pairs = []
        for i in range(self.args.connections):
            ca = self.a.client(self.resp)
            cb = self.b.client(self.resp)
            for c, side in ((ca, self.a), (cb, self.b)):
                if self.resp == 3 and not (isinstance(c.hello, h.Map) and
                                           c.hello.get(b"proto") == 3):
                    raise h.HarnessError("%s: HELLO 3 did not return a map "
                                         "with proto 3: %r" %
                                         (side.label, c.hello))
            self.pairs.append((ca, cb))
            self.conn_db.append(0)

    def close(self):
        for ca, cb in self.pairs:
            ca.close()
            cb.close()
        for c in self.stat_clients:
            c.close()
        self.stat_clients = []

    # -- compact-encoding limits (note 12)
    def setup_limits(self):
        """Learn which LIMITS each server knows (and their values, restored
        at the end); returns False when limits cannot be used."""
        if self.args.limits == "none":
            return False
        names, orig = [], []
        for side in (self.a, self.b):
            with side.client(2) as c:
                known, vals = [], {}
                for name, _, _ in LIMITS:
                    r = c.call("CONFIG", "GET", name)
                    if isinstance(r, list) and len(r) == 2:
                        known.append(name)
                        vals[name] = r[1]
                names.append(known)
                orig.append(vals)
        for name, _, _ in LIMITS:
            missing = [side.label for side, known in zip((self.a, self.b),
                                                         names)
                       if name not in known]
            if missing and name not in OPTIONAL_LIMITS:
                self.say("difftest: WARNING: %s: CONFIG GET %s gives no "
                         "value: the run keeps the servers' limits" %
                         (" and ".join(missing), name.decode()))
                return False
        self.limit_names, self.limit_orig = names, orig
        return True

    def set_limits(self, values, where):
        """CONFIG SET the given {name: value} on both servers (each gets the
        names it knows); both must answer +OK."""
        for side, known in zip((self.a, self.b), self.limit_names):
            args = [b"CONFIG", b"SET"]
            for name in known:
                if name in values:
                    args += [name, h.to_bytes(values[name])]
            try:
                with side.client(2) as c:
                    node = c.call_node(*args)
            except (OSError, h.HarnessError) as e:
                self.record(Cmd(args), "%s: no valid reply: %s (the run "
                            "stops here)" % (side.label, e), None, None,
                            where)
                raise StopRun()
            if node.raw != b"+OK\r\n":
                self.record(Cmd(args), "%s did not accept the limits: %s" %
                            (side.label, fmt_reply(node)), None, None, where)

    def switch_limits(self):
        """Start the next segment of the stream: small limits (drawn anew)
        or the defaults, as --limits says (mixed: alternately)."""
        mode = self.args.limits
        if mode == "mixed":
            mode = "small" if self.segment != "small" else "default"
        if mode == "small":
            values = {name: small_limit(self.limit_rng, kind)
                      for name, _, kind in LIMITS}
        else:
            values = {name: dflt for name, dflt, _ in LIMITS}
        if mode != self.segment or mode == "small":
            self.set_limits(values, "limits at command %d" % self.sent)
            if self.args.show_limits:
                self.say("  limits at command %d: %s" % (self.sent, " ".join(
                    "%s=%s" % (n.decode(), v) for n, v in values.items())))
        self.segment = mode
        self.next_switch = self.sent + self.args.limits_every

    def restore_limits(self):
        if not self.limit_orig:
            return
        for side, vals in zip((self.a, self.b), self.limit_orig):
            if not vals:
                continue
            args = [b"CONFIG", b"SET"]
            for name, v in vals.items():
                args += [name, v]
            try:
                with side.client(2) as c:
                    c.call(*args)
            except (OSError, h.HarnessError):
                pass

    # -- encoding statistics (note 13): never compared
    def sample_encodings(self):
        """TYPE and OBJECT ENCODING of every key on both servers, on their
        own connections; only counted, never compared."""
        if not self.stat_clients:
            self.stat_clients = [self.a.client(2), self.b.client(2)]
        self.samples += 1
        for i, c in enumerate(self.stat_clients):
            cmds = []
            for db in range(NDB):
                cmds += [(b"SELECT", db), (b"KEYS", b"*")]
            listing = c.pipeline(cmds)
            cmds, keys = [], []
            for db in range(NDB):
                ks = listing[2 * db + 1]
                if not isinstance(ks, list) or not ks:
                    continue
                cmds.append((b"SELECT", db))
                for k in ks:
                    cmds += [(b"TYPE", k), (b"OBJECT", b"ENCODING", k)]
                    keys.append((db, bytes(k)))
            got = [r for r, cmd in zip(c.pipeline(cmds), cmds)
                   if cmd[0] != b"SELECT"]
            now = {}
            for j, dk in enumerate(keys):
                t, enc = got[2 * j], got[2 * j + 1]
                if isinstance(t, h.Error) or isinstance(enc, h.Error) or \
                        t not in COLLECTION_TYPES or enc is None:
                    continue
                t, enc = bytes(t), bytes(enc)
                now[dk] = (t, enc)
                self.enc_keys[i].setdefault((t, enc), set()).add(dk)
                prev = self.enc_last[i].get(dk)
                if prev and prev[0] == t and prev[1] != enc:
                    full = FULL_ENCODINGS.get(t)
                    if enc == full:
                        self.enc_moves[i][(t, "full")] += 1
                    elif prev[1] == full:
                        self.enc_moves[i][(t, "compact")] += 1
            self.enc_last[i] = now
        # A sorted set's encoding shows in Redis (a score -0 reads back as 0
        # from a listpack), so ember keeps Redis's: a key where the two
        # differ is worth a look (reported, never a mismatch).
        ea, eb = self.enc_last
        self.zset_enc_diff.update(dk for dk, te in ea.items()
                                  if te[0] == b"zset" and dk in eb and
                                  eb[dk][0] == b"zset" and eb[dk] != te)

    def exchange(self, ca, cb, cmds):
        data = b"".join(h.encode_command(*c.args) for c in cmds)
        replies = []
        for c, side in ((ca, self.a), (cb, self.b)):
            got = []
            try:
                if not replies:
                    ca.send_raw(data)
                    cb.send_raw(data)
                for _ in cmds:
                    got.append(c.read_node())
            except (OSError, h.HarnessError) as e:
                raise Desync(side, cmds, len(got), e)
            replies.append(got)
        return replies



    def record(self, cmd, why, na, nb, where, context=()):
        self.mismatches.append(Mismatch(where, cmd, na, nb, why, context))
        if len(self.mismatches) <= self.args.show:
            self.print_mismatch(self.mismatches[-1], len(self.mismatches))

    def print_mismatch(self, m, n):
        w = self.out.write
        w("\nMISMATCH %d (%s)\n" % (n, m.where))
        for c in m.context[-5:]:
            w("    before: %s\n" % fmt_args(c.args))
        w("  command: %s\n" % (fmt_args(m.cmd.args) if m.cmd else "-"))
        w("  %s: %s\n" % (self.a.label, fmt_reply(m.na)))
        w("  %s: %s\n" % (self.b.label, fmt_reply(m.nb)))
        w("  why: %s\n" % m.why)
        self.out.flush()

    def count(self, cmd, ok, err=False):
        st = self.by_name.setdefault(cmd.name, [0, 0, 0])
        st[0] += 1
        if ok:
            self.matched += 1
        else:
            st[1] += 1
        if err:
            st[2] += 1

    # -- one batch
    def desync(self, d, where):
        i = min(d.index, len(d.cmds) - 1)
        self.record(d.cmds[i], "%s gave no valid reply: %s: %s (the run "
                    "stops here)" % (d.side.label, type(d.exc).__name__,
                                     d.exc), None, None, where,
                    d.cmds[max(0, i - 5):i])
        raise StopRun()

    def run_batch(self, idx, cmds, where):
        ca, cb = self.pairs[idx]
        try:
            ra, rb = self.exchange(ca, cb, cmds)
        except Desync as d:
            self.desync(d, "%s, conn %d, db %d" % (where, idx,
                                                   self.conn_db[idx]))
        follow = []
        for i, cmd in enumerate(cmds):
            na, nb = ra[i], rb[i]
            self.compared += 1
            if na.is_error:
                self.errors_seen += 1
            why = self.compare(cmd, na, nb,
                               ra[cmd.ref] if cmd.ref is not None else None,
                               rb[cmd.ref] if cmd.ref is not None else None,
                               ca, cb)
            self.count(cmd, why is None, na.is_error)
            if why:
                self.record(cmd, why, na, nb, "%s, conn %d, db %d" %
                            (where, idx, self.conn_db[idx]),
                            cmds[max(0, i - 5):i])
            if cmd.name == "SELECT" and na.t == "+":
                self.conn_db[idx] = int(cmd.args[1])
            if cmd.check == "spop":
                follow += self.spop_resync(cmd, ra[cmd.ref])
        if follow:
            self.run_batch(idx, follow, where + " (SPOP re-sync)")

    def compare(self, cmd, na, nb, refa, refb, ca, cb):
        check = cmd.check
        if check == "exact":
            return cmp_exact(na, nb)
        if check == "unordered":
            return cmp_unordered(na, nb)
        if check == "pairs":
            return cmp_pairs(na, nb)
        if check == "ttl":
            return cmp_ttl(na, nb, cmd.tol)
        if check == "scan":
            return self.scan_compare(cmd, na, nb, ca, cb)
        # random replies
        wa = random_check(cmd, na, refa)
        wb = random_check(cmd, nb, refb)
        if wa == "error" or wb == "error":
            return cmp_exact(na, nb)
        if wa or wb:
            return "invalid random reply: %s" % "; ".join(
                "%s: %s" % (lbl, w) for lbl, w in
                ((self.a.label, wa), (self.b.label, wb)) if w)
        if shape(na) != shape(nb):
            return "reply shapes differ: %s vs %s" % (shape(na), shape(nb))
        return None

    def spop_resync(self, cmd, ref):
        members = [c.v for c in children(ref)] if not ref.is_error else []
        if not members:
            return []
        c = Cmd([b"SADD", cmd.opt["key"]] + members)
        c.fam = cmd.fam
        return [c]

    def scan_all(self, client, cmd, first):
        """Iterate a SCAN-family command to cursor 0 from its first reply;
        returns (elements, error)."""
        elems = []
        node = first
        cur_idx = 1 if cmd.name == "SCAN" else 2
        for _ in range(100000):
            if node.is_error:
                return None, "error"
            if node.t != "*" or node.v is None or len(node.v) != 2 or \
                    node.v[0].t != "$" or node.v[1].t not in "*":
                return None, "bad SCAN reply shape: %s" % fmt_reply(node)
            cursor = node.v[0].v
            items = [c.v for c in node.v[1].v]
            if cmd.opt.get("pairs"):
                if len(items) % 2:
                    return None, "odd number of elements in a pair scan"
                items = [(items[i], items[i + 1])
                         for i in range(0, len(items), 2)]
            elems += items
            if cursor == b"0":
                return elems, None
            args = list(cmd.args)
            args[cur_idx] = cursor
            node = client.call_node(*args)
        return None, "SCAN did not reach cursor 0 in 100000 calls"

    def scan_compare(self, cmd, na, nb, ca, cb):
        if na.is_error or nb.is_error:
            return cmp_exact(na, nb)
        ea, erra = self.scan_all(ca, cmd, na)
        eb, errb = self.scan_all(cb, cmd, nb)
        if erra or errb:
            if erra == "error" and errb == "error":
                return None
            return "scan: %s / %s" % (erra, errb)
        why = scan_diff(ea, eb, self.a.label, self.b.label)
        if why and cmd.name == "SCAN" and set(ea) == set(eb):
            # Note 3: Redis's serverCron may shrink a sparse keyspace table
            # between two SCAN calls and so repeat a key; a repeat counts
            # only if a second iteration, right away, repeats it too.
            ea2, erra = self.scan_all(ca, cmd, ca.call_node(*cmd.args))
            eb2, errb = self.scan_all(cb, cmd, cb.call_node(*cmd.args))
            if erra or errb:
                return "%s; a second iteration failed: %s / %s" % (
                    why, erra, errb)
            why2 = scan_diff(ea2, eb2, self.a.label, self.b.label)
            if why2:
                return "%s; and on a second iteration: %s" % (why, why2)
            for side, e in ((self.a, ea), (self.b, eb)):
                if has_repeats(e):
                    self.scan_forgiven[side.label] += 1
            return None
        return why

    # -- phases
    def flushall(self):
        for side in (self.a, self.b):
            with side.client(2) as c:
                try:
                    h.flush_all(c, NDB)
                except h.ReplyError:
                    # A server still without FLUSHALL/FLUSHDB: delete what
                    # KEYS finds, db by db.
                    for db in range(NDB):
                        c.execute("SELECT", db)
                        keys = c.execute("KEYS", "*")
                        if keys:
                            c.execute("DEL", *keys)
                    c.execute("SELECT", 0)

    def random_stream(self, n, label, total):
        """n more commands of the stream; total is what the whole run will
        send (for the progress lines)."""
        done = 0
        batch_no = self.batches
        step = max(1, total // 4)
        next_report = (self.sent // step + 1) * step
        while done < n:
            if self.limit_names and self.sent >= self.next_switch:
                self.switch_limits()
            if self.args.sample_every and self.sent >= self.next_sample:
                self.guarded(self.sample_encodings)
                self.next_sample = self.sent + self.args.sample_every
            idx = self.rng.randrange(len(self.pairs))
            size = self.rng.randint(1, self.args.batch)
            cmds = []
            while len(cmds) < size:
                group = self.gen.group()
                base = len(cmds)
                for j, c in enumerate(group):
                    if c.ref is not None:
                        c.ref = base + j + c.ref
                    cmds.append(c)
                if group[-1].end:
                    break
            batch_no += 1
            self.run_batch(idx, cmds, "%s batch %d" % (label, batch_no))
            done += len(cmds)
            self.sent += len(cmds)
            if self.segment:
                self.segments[self.segment] += len(cmds)
            if self.sent >= next_report:
                self.say("  %s: %d/%d commands, %d mismatches" %
                         (label, self.sent, total, len(self.mismatches)))
                next_report += step
            if len(self.mismatches) >= self.args.stop_after:
                self.say("  stopping: %d mismatches" % len(self.mismatches))
                break
        self.batches = batch_no
        return done

    def guarded(self, fn, *args):
        try:
            fn(*args)
        except (OSError, h.HarnessError) as e:
            self.record(Cmd([b"(%s)" % fn.__name__.encode()]),
                        "no valid reply: %s: %s (the run stops here)" %
                        (type(e).__name__, e), None, None, fn.__name__)
            raise StopRun()

    def expiry_phase(self, round_no):
        """Short TTLs: set, sleep past them, check they are gone (note 10)."""
        ca, cb = self.a.client(self.resp), self.b.client(self.resp)
        rng = self.rng
        where = "expiry phase %d" % round_no
        try:
            db = rng.randrange(NDB)
            self.phase_cmds(ca, cb, [Cmd([b"SELECT", b"%d" % db])], where)
            base_a = ca.call("DBSIZE")
            base_b = cb.call("DBSIZE")
            if base_a != base_b:
                self.record(Cmd([b"DBSIZE"]), "DBSIZE differs before the "
                            "phase", None, None, where)
                return
            fams = set(self.args.families)
            now_ms = int(time.time() * 1000)
            cmds, short, keep = [], [], []
            ttl_of = {}
            longest = 0
            for i in range(48):
                k = b"exp:%d:%d" % (round_no, i)
                ms = rng.randint(100, 600)
                choice = rng.randrange(14)
                if choice == 0:
                    cmds.append(Cmd([b"SET", k, b"v", b"PX", b"%d" % ms]))
                elif choice == 1:
                    cmds.append(Cmd([b"SET", k, b"v", b"EX", b"1"]))
                    ms = 1000
                elif choice == 2:
                    # Sometimes already in the past: Redis 7.0 stores the
                    # key anyway, expired; it must vanish all the same.
                    at = now_ms + ms if rng.random() < 0.7 else \
                        now_ms - rng.randint(1, 100000)
                    cmds.append(Cmd([b"SET", k, b"v", b"PXAT", b"%d" % at]))
                elif choice == 3:
                    cmds.append(Cmd([b"PSETEX", k, b"%d" % ms, b"v"]))
                elif choice == 4:
                    cmds.append(Cmd([b"SETEX", k, b"1", b"v"]))
                    ms = 1000
                elif choice == 5:
                    cmds += [Cmd([b"SET", k, b"v"]),
                             Cmd([b"PEXPIRE", k, b"%d" % ms])]
                elif choice == 6:
                    cmds += [Cmd([b"SET", k, b"v"]),
                             Cmd([b"GETEX", k, b"PX", b"%d" % ms])]
                elif choice == 7 and "lists" in fams:
                    cmds += [Cmd([b"RPUSH", k, b"a", b"b"]),
                             Cmd([b"PEXPIRE", k, b"%d" % ms])]
                elif choice == 8 and "hashes" in fams:
                    cmds += [Cmd([b"HSET", k, b"f", b"v"]),
                             Cmd([b"PEXPIREAT", k, b"%d" % (now_ms + ms)])]
                elif choice == 9 and "sets" in fams:
                    cmds += [Cmd([b"SADD", k, b"a", b"1"]),
                             Cmd([b"PEXPIRE", k, b"%d" % ms])]
                elif choice == 10 and "zsets" in fams:
                    cmds += [Cmd([b"ZADD", k, b"1", b"a"]),
                             Cmd([b"EXPIRE", k, b"1"])]
                    ms = 1000
                elif choice == 11:       # survives: PERSIST
                    cmds += [Cmd([b"SET", k, b"v", b"PX", b"%d" % ms]),
                             Cmd([b"PERSIST", k])]
                    keep.append(k)
                    continue
                elif choice == 12:       # survives: overwritten without TTL
                    cmds += [Cmd([b"SET", k, b"v", b"PX", b"%d" % ms]),
                             Cmd([b"SET", k, b"w"])]
                    keep.append(k)
                    continue
                else:                    # survives: long or no TTL
                    cmds.append(Cmd([b"SET", k, b"v", b"EX", b"100000"]
                                    if rng.random() < 0.5 else
                                    [b"SET", k, b"v"]))
                    keep.append(k)
                    continue
                short.append(k)
                ttl_of[k] = ms
                longest = max(longest, ms)
            # RENAME carries the TTL along.
            if short:
                src = short.pop()
                dst = b"exp:%d:renamed" % round_no
                cmds.append(Cmd([b"RENAME", src, dst]))
                short.append(dst)
            self.phase_cmds(ca, cb, cmds, where + " (set)")
            t_set = time.time()      # every TTL above started before this
            # PTTL right away, only where it cannot run out meanwhile.
            checks = [Cmd([b"PTTL", k], check="ttl", tol=TTL_TOL_MS)
                      for k in short if ttl_of.get(k, 0) >= 1000][:6]
            checks += [Cmd([b"PTTL", k], check="ttl", tol=TTL_TOL_MS)
                       for k in keep[:4]]
            self.phase_cmds(ca, cb, checks, where + " (PTTL right after)")
            time.sleep(max(0.0, t_set + longest / 1000.0 + 0.1 -
                           time.time()))
            # Lazy expiry: half of the keys are read.
            rng.shuffle(short)
            lazy, active = short[:len(short) // 2], short[len(short) // 2:]
            cmds = []
            for k in lazy:
                cmds += [Cmd([b"EXISTS", k], opt={"want": b":0\r\n"}),
                         Cmd([b"TTL", k], opt={"want": b":-2\r\n"}),
                         Cmd([b"TYPE", k], opt={"want": b"+none\r\n"})]
            self.phase_cmds(ca, cb, cmds, where + " (lazy expiry)")
            # Active expiry: the other half is never touched.
            want = base_a + len(keep)
            deadline = time.monotonic() + self.args.active_expiry_wait
            while True:
                sa, sb = ca.call("DBSIZE"), cb.call("DBSIZE")
                if sa == want and sb == want:
                    break
                if time.monotonic() > deadline:
                    self.record(Cmd([b"DBSIZE"]),
                                "active expiry: DBSIZE should drop to %d "
                                "within %g s (%d never-read keys expired)" %
                                (want, self.args.active_expiry_wait,
                                 len(active)),
                                h.parse_all(b":%d\r\n" % sa)[0],
                                h.parse_all(b":%d\r\n" % sb)[0], where)
                    break
                time.sleep(0.1)
            self.phase_cmds(ca, cb, [Cmd([b"KEYS", b"exp:*"],
                                         check="unordered")], where)
            got = set(ca.call("KEYS", b"exp:*"))
            if got != set(keep):
                self.record(Cmd([b"KEYS", b"exp:*"]), "keys left after the "
                            "phase are not the survivors: extra %r missing %r"
                            % (sorted(got - set(keep))[:5],
                               sorted(set(keep) - got)[:5]), None, None, where)
            cmds = [Cmd([b"EXISTS"] + keep)] if keep else []
            cmds += [Cmd([b"DEL"] + keep)] if keep else []
            self.phase_cmds(ca, cb, cmds, where + " (cleanup)")
            self.say("  %s: %d short-TTL keys (%d read, %d left to active "
                     "expiry), %d survivors, db %d: %d mismatches so far" %
                     (where, len(short), len(lazy), len(active), len(keep),
                      db, len(self.mismatches)))
        finally:
            ca.close()
            cb.close()

    def phase_cmds(self, ca, cb, cmds, where):
        if not cmds:
            return
        try:
            ra, rb = self.exchange(ca, cb, cmds)
        except Desync as d:
            self.desync(d, where)
        for i, cmd in enumerate(cmds):
            self.compared += 1
            why = self.compare(cmd, ra[i], rb[i], None, None, ca, cb)
            want = cmd.opt.get("want")
            if not why and want is not None and ra[i].raw != want:
                why = "both replied %s, expected %r (key should have " \
                    "expired)" % (fmt_reply(ra[i]), want)
            self.count(cmd, why is None)
            if why:
                self.record(cmd, why, ra[i], rb[i], where,
                            cmds[max(0, i - 5):i])

    def dump(self, side):
        """{db: {key: (type, content, pttl)}} of every database."""
        c = side.client(2)
        out = {}
        try:
            for db in range(NDB):
                c.execute("SELECT", db)
                keys = c.execute("KEYS", "*")
                if not keys:
                    continue
                meta = c.pipeline([(cmd, k) for k in keys
                                   for cmd in ("TYPE", "PTTL")])
                reads = []
                for i, k in enumerate(keys):
                    t = meta[2 * i]
                    reads.append({b"string": ("GET", k),
                                  b"list": ("LRANGE", k, 0, -1),
                                  b"hash": ("HGETALL", k),
                                  b"set": ("SMEMBERS", k),
                                  b"zset": ("ZRANGE", k, 0, -1, "WITHSCORES"),
                                  }.get(t, ("TYPE", k)))
                vals = c.pipeline(reads)
                d = {}
                for i, k in enumerate(keys):
                    t, v = meta[2 * i], vals[i]
                    if t == b"hash" and isinstance(v, list):
                        v = sorted(zip(v[::2], v[1::2]))
                    elif t == b"set" and isinstance(v, list):
                        v = sorted(v)
                    d[k] = (bytes(t), v, meta[2 * i + 1])
                out[db] = d
        finally:
            c.close()
        return out

    def compare_state(self, where):
        dumps = []
        for side in (self.a, self.b):
            try:
                dumps.append(self.dump(side))
            except (OSError, h.HarnessError, h.ReplyError) as e:
                self.record(Cmd([b"(state dump)"]), "%s: cannot dump the "
                            "keyspace: %s" % (side.label, e), None, None,
                            where)
                return
        da, db_ = dumps
        bad = 0
        for db in range(NDB):
            ka, kb = da.get(db, {}), db_.get(db, {})
            for k in sorted(set(ka) | set(kb)):
                va, vb = ka.get(k), kb.get(k)
                why = None
                if va is None or vb is None:
                    why = "key exists only on %s" % (
                        self.a.label if vb is None else self.b.label)
                elif va[:2] != vb[:2]:
                    why = "type or value differs: %r vs %r" % (
                        (va[0], va[1]), (vb[0], vb[1]))
                elif (va[2] < 0 or vb[2] < 0) and va[2] != vb[2] or \
                        abs(va[2] - vb[2]) > TTL_TOL_MS:
                    why = "PTTL differs: %d vs %d" % (va[2], vb[2])
                if why:
                    bad += 1
                    self.record(Cmd([b"(state)", k]), why, None, None,
                                "%s, db %d" % (where, db))
        nkeys = sum(len(x) for x in da.values())
        self.say("  %s: %d keys in %d dbs compared, %d differ" %
                 (where, nkeys, len(da), bad))

    def run(self):
        try:
            self.flushall()
            self.connect()
            self.setup_limits()
        except (OSError, h.HarnessError, h.ReplyError) as e:
            self.record(Cmd([b"(setup)"]), "cannot set up the run: %s" % e,
                        None, None, "setup")
            return 0
        try:
            # every connection starts in a random db
            for idx in range(len(self.pairs)):
                self.run_batch(idx, [Cmd([b"SELECT",
                                          b"%d" % self.rng.randrange(NDB)])],
                               "setup")
            n = self.args.commands
            half = n // 2
            label = "resp%d" % self.resp
            done = self.random_stream(half, label, n)
            if self.args.expiry and "expire" in self.args.families:
                self.guarded(self.expiry_phase, 1)
            if len(self.mismatches) < self.args.stop_after:
                done += self.random_stream(n - half, label, n)
            if self.args.expiry and "expire" in self.args.families:
                self.guarded(self.expiry_phase, 2)
            if self.args.sample_every:
                self.guarded(self.sample_encodings)
            if self.before_final:
                self.before_final()
            self.compare_state("final state")
        except StopRun:
            pass
        finally:
            self.close()
            self.restore_limits()
        return self.sent


# --------------------------------------------------------------------------
# self-test: does the comparison catch what it must, and only that?

class CorruptingProxy(object):
    """A RESP proxy in front of a real server that can rewrite one request
    or reply: the stand-in for a buggy target.  mutate(name, node, n)
    returns replacement bytes for reply number n (or None to pass it);
    mutate_request(node) the same for requests."""

    def __init__(self, host, port, mutate=None, mutate_request=None):
        self.upstream = (host, port)
        self.mutate = mutate
        self.mutate_request = mutate_request
        self.lock = threading.Lock()
        self.replies = 0
        self.fired = 0
        self.socks = []
        self.closed = False
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            u = socket.create_connection(self.upstream)
            for x in (c, u):
                x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.socks += [c, u]
            names = deque()
            threading.Thread(target=self._up, args=(c, u, names),
                             daemon=True).start()
            threading.Thread(target=self._down, args=(u, c, names),
                             daemon=True).start()

    def _up(self, c, u, names):
        r = h.Reader()
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    break
                r.feed(data)
                out = []
                while True:
                    node = r.get()
                    if node is None:
                        break
                    names.append(node.v[0].v.upper() if node.t == "*" else
                                 b"INLINE")
                    new = None
                    if self.mutate_request:
                        with self.lock:
                            new = self.mutate_request(node)
                            if new is not None:
                                self.fired += 1
                    out.append(new if new is not None else node.raw)
                u.sendall(b"".join(out))
        except OSError:
            pass
        finally:
            for x in (c, u):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _down(self, u, c, names):
        r = h.Reader()
        try:
            while True:
                data = u.recv(65536)
                if not data:
                    break
                r.feed(data)
                out = []
                while True:
                    node = r.get()
                    if node is None:
                        break
                    name = names.popleft() if names else b"?"
                    new = None
                    with self.lock:
                        self.replies += 1
                        if self.mutate:
                            new = self.mutate(name, node, self.replies)
                            if new is not None:
                                self.fired += 1
                    out.append(new if new is not None else node.raw)
                c.sendall(b"".join(out))
        except OSError:
            pass
        finally:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.closed = True
        self.lsock.close()
        for x in self.socks:
            try:
                x.close()
            except OSError:
                pass


def agg_raw(t, kids):
    n = len(kids) // 2 if t == "%" else len(kids)
    return (b"%s%d\r\n" % (t.encode(), n)) + b"".join(k.raw for k in kids)


UNORDERED = {b"KEYS", b"SMEMBERS", b"SINTER", b"SUNION", b"SDIFF", b"HKEYS",
             b"HVALS"}


def once(pred, change, after=200):
    """A mutator that rewrites the first reply after `after` for which
    pred(name, node) holds."""
    state = {"done": False}

    def mutate(name, node, n):
        if state["done"] or n < after or not pred(name, node):
            return None
        state["done"] = True
        return change(node)
    return mutate


def m_reorder(name, node, n):
    if name in UNORDERED and is_agg(node) and len(node.v) > 1:
        return agg_raw(node.t, node.v[::-1])
    if name == b"HGETALL" and is_agg(node) and len(node.v) > 2:
        v = node.v
        pairs = [v[i:i + 2] for i in range(0, len(v), 2)][::-1]
        return agg_raw(node.t, [x for p in pairs for x in p])
    return None


def m_ttl_jitter(name, node, n):
    if node.t == ":" and int(node.v) > 0:
        if name == b"TTL":
            return b":%d\r\n" % (int(node.v) + 1)
        if name == b"PTTL":
            return b":%d\r\n" % (int(node.v) + 500)
    return None


def m_scan_drop(name, node, n):
    if name == b"SCAN" and node.t == "*" and node.v and len(node.v) == 2 \
            and node.v[1].v:
        inner = node.v[1]
        return agg_raw("*", [node.v[0], h.parse_all(
            agg_raw(inner.t, inner.v[1:]))[0]])
    return None


def scan_repeater(names, times=None):
    """A mutator that repeats the first element (pair for HSCAN/ZSCAN) of
    a non-empty page of the named scan commands, `times` times (None:
    always)."""
    state = {"left": times}

    def mutate(name, node, n):
        if name not in names or state["left"] == 0 or node.t != "*" or \
                not node.v or len(node.v) != 2 or not node.v[1].v:
            return None
        inner = node.v[1]
        w = 2 if name in (b"HSCAN", b"ZSCAN") else 1
        if len(inner.v) < w:
            return None
        if state["left"] is not None:
            state["left"] -= 1
        return agg_raw("*", [node.v[0], h.parse_all(
            agg_raw(inner.t, inner.v[:w] + inner.v))[0]])
    return mutate


def set_request_changer():
    def mutate_request(node):
        # Every plain "SET <key> <value>" stores another value on B; both
        # still answer +OK: only later reads can tell.
        if node.t != "*" or len(node.v) != 3 or \
                node.v[0].v.upper() != b"SET":
            return None
        return h.encode_command(b"SET", node.v[1].v, node.v[2].v + b"!")
    return mutate_request


def comparator_checks():
    """Unit checks of the comparison functions; returns failure strings."""
    P = lambda raw: h.parse_all(raw)[0]  # noqa: E731
    fails = []

    def expect(name, got, want_ok):
        if (got is None) != want_ok:
            fails.append("%s: got %r" % (name, got))

    expect("exact same", cmp_exact(P(b"+OK\r\n"), P(b"+OK\r\n")), True)
    expect("simple vs bulk", cmp_exact(P(b"+OK\r\n"), P(b"$2\r\nOK\r\n")),
           False)
    expect("null kinds", cmp_exact(P(b"$-1\r\n"), P(b"*-1\r\n")), False)
    expect("unordered permuted", cmp_unordered(
        P(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"), P(b"*2\r\n$1\r\nb\r\n$1\r\na\r\n")),
        True)
    expect("unordered differs", cmp_unordered(
        P(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"), P(b"*2\r\n$1\r\nb\r\n$1\r\nb\r\n")),
        False)
    expect("set vs array", cmp_unordered(
        P(b"~1\r\n$1\r\na\r\n"), P(b"*1\r\n$1\r\na\r\n")), False)
    expect("pairs permuted", cmp_pairs(
        P(b"*4\r\n$1\r\nf\r\n$1\r\n1\r\n$1\r\ng\r\n$1\r\n2\r\n"),
        P(b"*4\r\n$1\r\ng\r\n$1\r\n2\r\n$1\r\nf\r\n$1\r\n1\r\n")), True)
    expect("pairs swapped values", cmp_pairs(
        P(b"*4\r\n$1\r\nf\r\n$1\r\n1\r\n$1\r\ng\r\n$1\r\n2\r\n"),
        P(b"*4\r\n$1\r\nf\r\n$1\r\n2\r\n$1\r\ng\r\n$1\r\n1\r\n")), False)
    expect("scan permuted", scan_diff([b"a", b"b"], [b"b", b"a"]), True)
    expect("scan repeat", scan_diff([b"a", b"b", b"a"], [b"a", b"b"]), False)
    expect("scan repeats alike", scan_diff([b"a", b"a"], [b"a", b"a"]), True)
    expect("scan pairs permuted", scan_diff([(b"f", b"1"), (b"g", b"2")],
                                            [(b"g", b"2"), (b"f", b"1")]),
           True)
    expect("scan pair repeated", scan_diff(
        [(b"f", b"1"), (b"g", b"2"), (b"f", b"1")],
        [(b"g", b"2"), (b"f", b"1")]), False)
    expect("scan pair value", scan_diff([(b"f", b"1")], [(b"f", b"2")]),
           False)
    expect("ttl within", cmp_ttl(P(b":100\r\n"), P(b":101\r\n"), 1), True)
    expect("ttl beyond", cmp_ttl(P(b":100\r\n"), P(b":102\r\n"), 1), False)
    expect("ttl -1 vs -2", cmp_ttl(P(b":-1\r\n"), P(b":-2\r\n"), 1), False)
    expect("ttl -1 vs 0", cmp_ttl(P(b":-1\r\n"), P(b":0\r\n"), 1000), False)
    members = P(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n")
    c = Cmd([b"SRANDMEMBER", b"s", b"2"], check="srandmember",
            opt={"count": 2})
    expect("srandmember valid", random_check(
        c, P(b"*2\r\n$1\r\nb\r\n$1\r\na\r\n"), members), True)
    expect("srandmember repeats", random_check(
        c, P(b"*2\r\n$1\r\na\r\n$1\r\na\r\n"), members), False)
    expect("srandmember foreign", random_check(
        c, P(b"*2\r\n$1\r\na\r\n$1\r\nz\r\n"), members), False)
    c = Cmd([b"SRANDMEMBER", b"s", b"-3"], check="srandmember",
            opt={"count": -3})
    expect("srandmember negative", random_check(
        c, P(b"*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"), members), True)
    c = Cmd([b"RANDOMKEY"], check="randomkey")
    expect("randomkey empty", random_check(c, P(b"$-1\r\n"), P(b"*0\r\n")),
           True)
    expect("randomkey invented", random_check(
        c, P(b"$1\r\nq\r\n"), members), False)
    c = Cmd([b"ZRANDMEMBER", b"z", b"1", b"WITHSCORES"], check="zrandmember",
            opt={"count": 1, "withscores": True})
    zr = P(b"*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,2\r\n")
    expect("zrandmember resp3", random_check(
        c, P(b"*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"), zr), True)
    expect("zrandmember wrong score", random_check(
        c, P(b"*1\r\n*2\r\n$1\r\nb\r\n,3\r\n"), zr), False)
    return fails


def self_test(args):
    """Run the diff between two redis-servers through corrupting proxies and
    check that every injected difference is reported and that the
    normalisations forgive exactly what they should."""
    fails = comparator_checks()
    print("difftest self-test: comparator checks: %s" %
          ("ok" if not fails else "; ".join(fails)))
    scenarios = [
        # name, resp, mutate, mutate_request, expect_mismatch
        ("transparent proxy", 2, None, None, False),
        ("integer off by one", 2, once(
            lambda n, x: x.t == ":" and int(x.v) > 1,
            lambda x: b":%d\r\n" % (int(x.v) + 1)), None, True),
        ("+OK sent as a bulk string", 2, once(
            lambda n, x: x.raw == b"+OK\r\n",
            lambda x: b"$2\r\nOK\r\n"), None, True),
        ("error text changed", 2, once(
            lambda n, x: x.t == "-",
            lambda x: x.raw[:-2] + b".\r\n"), None, True),
        ("null bulk sent as null array", 2, once(
            lambda n, x: x.raw == b"$-1\r\n",
            lambda x: b"*-1\r\n"), None, True),
        ("RESP3 null sent as RESP2 null", 3, once(
            lambda n, x: x.raw == b"_\r\n",
            lambda x: b"$-1\r\n"), None, True),
        ("RESP3 double sent as bulk", 3, once(
            lambda n, x: x.t == ",",
            lambda x: b"$%d\r\n%s\r\n" % (len(x.v), x.v)), None, True),
        ("unordered reply lost an element", 2, once(
            lambda n, x: n in UNORDERED and is_agg(x) and len(x.v) > 1,
            lambda x: agg_raw(x.t, x.v[1:]), after=50), None, True),
        ("unordered replies reordered (allowed)", 3, m_reorder, None, False),
        ("TTL +1 s, PTTL +500 ms (allowed)", 2, m_ttl_jitter, None, False),
        ("PTTL off by 5 s", 2, once(
            lambda n, x: n == b"PTTL" and x.t == ":" and int(x.v) > 0,
            lambda x: b":%d\r\n" % (int(x.v) + 5000), after=0), None, True),
        ("SRANDMEMBER invents a member", 2, once(
            lambda n, x: n == b"SRANDMEMBER" and (
                (x.t == "$" and x.v is not None) or (is_agg(x) and x.v)),
            lambda x: b"$9\r\nnotmember\r\n" if x.t == "$" else
            agg_raw(x.t, [h.parse_all(b"$9\r\nnotmember\r\n")[0]] + x.v[1:]),
            after=0), None, True),
        ("SCAN drops a key", 2, once(
            lambda n, x: m_scan_drop(n, x, 0) is not None,
            lambda x: m_scan_drop(b"SCAN", x, 0), after=0), None, True),
        ("HSCAN/SSCAN/ZSCAN repeat an element once", 2, scan_repeater(
            (b"HSCAN", b"SSCAN", b"ZSCAN"), 1), None, True),
        ("SCAN repeats a key once (forgiven)", 3, scan_repeater(
            (b"SCAN",), 1), None, False),
        ("SCAN repeats a key every time", 2, scan_repeater((b"SCAN",)),
         None, True),
        ("B stores other values, same +OK", 2, None,
         set_request_changer(), True),
        ("a key only B has, seen by no reply", 2, None, None, True),
        ("B never expires keys actively", 2, None, None, True),
    ]
    a_srv, b_srv = h.RedisServer(), h.RedisServer()
    results = []
    try:
        a_srv.start()
        b_srv.start()
        for i, (name, resp, mut, mreq, want) in enumerate(scenarios):
            proxy = CorruptingProxy(b_srv.host, b_srv.port, mut, mreq)
            lazy_only = "actively" in name
            if lazy_only:
                # Redis's own switch: keys then expire only when touched,
                # and the expiry phase must notice DBSIZE never drops.
                with b_srv.client() as c:
                    c.execute("DEBUG", "SET-ACTIVE-EXPIRE", 0)
            try:
                sub = argparse.Namespace(**vars(args))
                sub.families = FAMILIES
                sub.commands = min(args.commands, 4000)
                sub.expiry = lazy_only
                sub.active_expiry_wait = 2.0
                sub.quiet = True
                sub.show = 0
                sub.connections = 2
                sub.sample_every = 0
                a = Side("A", a_srv)
                b = Side("B", h.ExternalServer("127.0.0.1", proxy.port))
                a.label, b.label = "A=redis", "B=proxy"
                run = Run(a, b, sub, resp, args.seed * 100 + i,
                          out=sys.stdout)
                if "only B has" in name:
                    def inject():
                        with b_srv.client() as c:
                            c.execute("SELECT", 7)
                            c.execute("SET", "only-on-b", "x")
                            proxy.fired += 1
                    run.before_final = inject
                run.run()
                got = len(run.mismatches)
                # A scenario that rewrote nothing proves nothing.
                exercised = proxy.fired > 0 or (mut is None and mreq is None)
                if lazy_only:
                    with b_srv.client() as c:
                        c.execute("DEBUG", "SET-ACTIVE-EXPIRE", 1)
                ok = (got > 0) == want and exercised
                results.append((name, want, got, proxy.fired, ok))
                print("  %-42s expect %-11s got %4d mismatches (%d "
                      "rewrites)  %s" % (name, "mismatch" if want else
                                         "none", got, proxy.fired,
                                         "ok" if ok else "FAILED"))
                if not ok and run.mismatches:
                    run.print_mismatch(run.mismatches[0], 1)
            finally:
                proxy.close()
    finally:
        for s in (a_srv, b_srv):
            s.stop(check=False)
    bad = [r for r in results if not r[4]] + fails
    passed = len(results) - len([r for r in results if not r[4]])
    print("difftest self-test: %s" % ("OK" if not bad else "FAILED"))
    print("difftest self-test: %d passed, %d failed" % (
        passed + (1 if not fails else 0), len(bad)))
    return 0 if not bad else 1


# --------------------------------------------------------------------------
# targets

def describe(server):
    if server.kind == "ember":
        return "ember %s (workers=%d)" % (server.addr, server.workers)
    return "%s %s" % (server.kind, server.addr)


def setup_targets(args, stack):
    def named(text):
        host, port = h.parse_hostport(text)
        return h.ExternalServer(host, port).start()

    if args.target_a:
        a = named(args.target_a)
    else:
        kind = h.target_kind()
        a = h.make_server(kind, workers=args.workers)
        if kind != "external":
            stack.append(a)
        a.start()
    if args.target_b:
        b = named(args.target_b)
    else:
        b = h.RedisServer()
        stack.append(b)
        b.start()
    return Side("A", a), Side("B", b)


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="differential test: ember vs redis-server",
        epilog="see the top of this file for what is normalised and why")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--commands", type=int, default=100000,
                    help="random commands per RESP version (default 100000)")
    ap.add_argument("--families", default=DEFAULT_FAMILIES,
                    help="comma list of %s, or 'all' (default %s)" %
                    (",".join(FAMILIES), DEFAULT_FAMILIES))
    ap.add_argument("--resp", default="2,3",
                    help="2, 3 or 2,3 (default: both, one after the other)")
    ap.add_argument("--target-a", help="host:port of an already running A")
    ap.add_argument("--target-b", help="host:port of an already running B")
    ap.add_argument("--workers", type=int, default=2,
                    help="ember workers when A is started here (default 2)")
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64,
                    help="largest pipeline (default 64)")
    ap.add_argument("--show", type=int, default=10,
                    help="mismatches printed in full (default 10)")
    ap.add_argument("--stop-after", type=int, default=1000,
                    help="stop a run after this many mismatches")
    ap.add_argument("--no-expiry", dest="expiry", action="store_false",
                    help="skip the short-TTL phases")
    ap.add_argument("--active-expiry-wait", type=float, default=10.0,
                    help="seconds the expiry phase waits for DBSIZE to drop "
                    "(default 10)")
    ap.add_argument("--limits", choices=LIMIT_MODES, default="mixed",
                    help="compact-encoding limits (CONFIG SET on both "
                    "servers, see note 12): mixed (default) alternates "
                    "segments of small random limits and the defaults; "
                    "small: always small; default: the defaults; none: "
                    "send no CONFIG at all")
    ap.add_argument("--limits-every", type=int, default=5000,
                    help="commands per limits segment (default 5000)")
    ap.add_argument("--show-limits", action="store_true",
                    help="print the limits each segment sets")
    ap.add_argument("--sample-every", type=int, default=2500,
                    help="commands between two OBJECT ENCODING samples of "
                    "every key, for the statistics only (default 2500; 0: "
                    "none)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--stats", action="store_true",
                    help="print, per command name, how often it was sent "
                    "and how often it was an error reply")
    ap.add_argument("--self-test", action="store_true",
                    help="prove the comparison catches corrupted replies "
                    "(two redis-servers and a corrupting proxy)")
    args = ap.parse_args(argv)
    fams = FAMILIES if args.families.strip() == "all" else \
        [f.strip() for f in args.families.split(",") if f.strip()]
    for f in fams:
        if f not in FAMILIES:
            ap.error("unknown family %r (known: %s)" % (f,
                                                        ",".join(FAMILIES)))
    args.families = [f for f in FAMILIES if f in fams]
    try:
        args.resps = [int(x) for x in args.resp.split(",")]
        assert all(x in (2, 3) for x in args.resps)
    except (ValueError, AssertionError):
        ap.error("--resp takes 2, 3 or 2,3")
    if args.limits_every < 1:
        ap.error("--limits-every takes a positive number of commands")
    if args.sample_every < 0:
        ap.error("--sample-every takes a number of commands, or 0")
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "big")
    return args


def enc_report(keys, moves, full_only=False):
    """One server's encoding statistics: keys (distinct db/key) seen in each
    encoding, per type, and the changes seen between two samples."""
    parts = []
    for t in COLLECTION_TYPES:
        encs = sorted((e, n) for (tt, e), n in keys.items() if tt == t and
                      (not full_only or e == FULL_ENCODINGS[t]))
        if not encs:
            continue
        text = "%s %s" % (t.decode(), " ".join(
            "%s %d" % (e.decode(), n) for e, n in encs))
        if moves[(t, "full")] or moves[(t, "compact")]:
            text += " (to full %d, back %d)" % (moves[(t, "full")],
                                                moves[(t, "compact")])
        parts.append(text)
    return "; ".join(parts) or "no collections seen"


def run_all(args, a, b, out=sys.stdout):
    """All requested RESP versions; returns (commands, mismatches, compared,
    matched)."""
    total_cmds = total_bad = total_cmp = total_ok = 0
    enc_keys = [Counter(), Counter()]
    enc_moves = [Counter(), Counter()]
    for i, resp in enumerate(args.resps):
        seed = args.seed
        t = time.monotonic()
        if not args.quiet:
            out.write("difftest: resp%d seed %d: %d commands, families %s\n"
                      % (resp, seed, args.commands, ",".join(args.families)))
        run = Run(a, b, args, resp, seed, out)
        done = run.run()
        total_cmds += done
        total_bad += len(run.mismatches)
        total_cmp += run.compared
        total_ok += run.matched
        if not args.quiet:
            errs = run.errors_seen
            out.write("difftest: resp%d: %d commands (%d replies compared, "
                      "%d of them errors, %d command names) in %.1fs: %d "
                      "mismatches\n" % (resp, done, run.compared, errs,
                                        len(run.by_name),
                                        time.monotonic() - t,
                                        len(run.mismatches)))
            if args.stats:
                for name, (n, bad, err) in sorted(run.by_name.items()):
                    out.write("    %-18s %7d sent %5.1f%% errors %d "
                              "mismatches\n" % (name, n, 100.0 * err / n,
                                                 bad))
            worst = sorted(((v[1], k) for k, v in run.by_name.items()
                            if v[1]), reverse=True)[:10]
            if worst:
                out.write("difftest: mismatches by command: %s\n" %
                          ", ".join("%s %d" % (k, n) for n, k in worst))
        for i in range(2):
            for te, ks in run.enc_keys[i].items():
                enc_keys[i][te] += len(ks)
            enc_moves[i].update(run.enc_moves[i])
        if not args.quiet:
            if run.segments:
                out.write("difftest: resp%d limits: %s\n" % (resp, ", ".join(
                    "%d commands with %s limits" % (n, m)
                    for m, n in sorted(run.segments.items(),
                                       key=lambda x: x[0] != "small"))))
            if run.samples:
                out.write("difftest: resp%d encodings (keys seen in each, "
                          "%d samples; changes between samples):\n" %
                          (resp, run.samples))
                for i, side in enumerate((a, b)):
                    out.write("    %s: %s\n" % (side.label, enc_report(
                        {te: len(ks) for te, ks in run.enc_keys[i].items()},
                        run.enc_moves[i])))
                out.write("    sorted sets whose encoding differed between "
                          "the servers at a sample: %d keys%s\n" % (
                              len(run.zset_enc_diff), "" if not
                              run.zset_enc_diff else " (%s; a score -0 then "
                              "reads back differently: note 13)" % ", ".join(
                                  "db %d %s" % (db, fmt_arg(k)) for db, k in
                                  sorted(run.zset_enc_diff)[:4])))
            if run.scan_forgiven:
                forgiven = sorted(run.scan_forgiven.items())
                out.write("difftest: resp%d: SCAN repeats that a second "
                          "iteration did not repeat (forgiven, note 3): %s\n"
                          % (resp, ", ".join("%s %d" % x for x in forgiven)))
    if not args.quiet and any(enc_keys):
        out.write("difftest: full forms reached (keys, summed over the runs; "
                  "changes between samples): %s\n" % "; ".join(
                      "%s: %s" % (side.label, enc_report(
                          enc_keys[i], enc_moves[i], full_only=True))
                      for i, side in enumerate((a, b))))
    return total_cmds, total_bad, total_cmp, total_ok


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        return self_test(args)
    print("difftest: seed %d (reproduce with --seed %d --commands %d "
          "--families %s --resp %s)" % (args.seed, args.seed, args.commands,
                                       ",".join(args.families), args.resp))
    sys.stdout.flush()
    stack = []
    try:
        try:
            a, b = setup_targets(args, stack)
        except h.HarnessError as e:
            print("difftest: cannot start the targets: %s" % e)
            print("difftest: 0 passed, 1 failed")
            return 2
        a.label = "A=" + describe(a.server)
        b.label = "B=" + describe(b.server)
        print("difftest: %s vs %s" % (a.label, b.label))
        t = time.monotonic()
        cmds, bad, compared, matched = run_all(args, a, b)
        stop_problems = []
        for s in reversed(stack):
            try:
                s.stop()
            except h.ServerStopError as e:
                stop_problems.append(str(e).splitlines()[0])
        stack = []
        for p in stop_problems:
            print("difftest: server did not stop cleanly: %s" % p)
        verdict = "OK" if not bad and not stop_problems else "FAILED"
        print("difftest: %s: %d commands, %d replies compared, %d "
              "mismatches, %.1fs (seed %d)" % (verdict, cmds, compared, bad,
                                               time.monotonic() - t,
                                               args.seed))
        print("difftest: %d passed, %d failed" % (matched,
                                                  bad + len(stop_problems)))
        return 0 if verdict == "OK" else 1
    finally:
        for s in reversed(stack):
            s.stop(check=False)


if __name__ == "__main__":
    sys.exit(main())
