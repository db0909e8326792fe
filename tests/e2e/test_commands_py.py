"""Every command of this phase through Debian's python3-redis (redis-py
4.3.4), used the way applications use it: typed helpers, response
callbacks, decode_responses, pipelines (no MULTI: transaction=False),
scan_iter, errors as exceptions; with 1 and 2 workers.  Cross-shard
multi-key commands (MGET MSET DEL EXISTS UNLINK TOUCH KEYS SCAN DBSIZE)
over thousands of keys, with and without hash tags.

Expectations are Redis 7.0's (EMBER_TARGET=redis runs them against
redis-server).
"""

import datetime
import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

try:
    import redis
    from redis.exceptions import ResponseError
except ImportError:  # reported by the tests themselves
    redis = None
    ResponseError = Exception

NOTINT = "value is not an integer or out of range"


class PyMixin(object):

    def setUp(self):
        if redis is None:
            self.skipTest("python3-redis is not installed")
        super().setUp()
        self.rp = self.server.redis_py(socket_timeout=30)
        self.addCleanup(self.rp.close)
        self.rs = self.server.redis_py(socket_timeout=30,
                                       decode_responses=True)
        self.addCleanup(self.rs.close)

    def assertRespError(self, text, fn, *args, **kw):
        with self.assertRaises(ResponseError) as cm:
            fn(*args, **kw)
        self.assertEqual(str(cm.exception), text)

    # -- connection and server
    def test_connection(self):
        r = self.rp
        self.assertIs(r.ping(), True)
        self.assertEqual(r.echo("héllo"), "héllo".encode())
        self.assertEqual(self.r.call("PING", "x"), b"x")
        cid = r.client_id()
        self.assertIsInstance(cid, int)
        self.assertIsNone(r.client_getname())
        self.assertIs(r.client_setname("app-1"), True)
        self.assertEqual(r.client_getname(), "app-1")  # (redis-py decodes it)
        info = r.client_info()
        self.assertEqual(info["name"], "app-1")
        self.assertEqual(int(info["id"]), cid)
        self.assertEqual(info["db"], 0)
        mine = [c for c in r.client_list() if c["name"] == "app-1"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(int(mine[0]["id"]), cid)
        self.assertRespError("Client names cannot contain spaces, newlines "
                             "or special characters.",
                             r.client_setname, "a b")
        hello = r.execute_command("HELLO", "2")
        d = dict(zip(hello[0::2], hello[1::2]))
        self.assertEqual(d[b"proto"], 2)
        self.assertEqual(d[b"server"], b"redis")
        self.assertEqual(d[b"mode"], b"standalone")
        self.assertRespError("NOPROTO unsupported protocol version",
                             r.execute_command, "HELLO", "5")
        # a client on database 3 (redis-py SELECTs at connect)
        r3 = self.server.redis_py(db=3)
        self.addCleanup(r3.close)
        r3.set("in3", "x")
        self.assertIsNone(r.get("in3"))
        self.assertEqual(r3.get("in3"), b"x")
        self.assertEqual(r3.dbsize(), 1)
        self.assertEqual(r.dbsize(), 0)
        with self.assertRaises(ResponseError):
            self.server.redis_py(db=16).ping()

    def test_client_kill(self):
        r = self.rp
        victim = self.server.redis_py()
        self.addCleanup(victim.close)
        victim.client_setname("victim")
        vid = victim.client_id()
        self.assertEqual(r.client_kill_filter(_id=vid), 1)
        self.assertEqual(r.client_kill_filter(_id=vid), 0)
        self.assertEqual([c for c in r.client_list()
                          if c["name"] == "victim"], [])
        # redis-py reconnects the killed client on its next command
        self.assertEqual(victim.ping(), True)
        self.assertNotEqual(victim.client_id(), vid)
        # clients on every worker: listed and killed from one connection
        others = [self.server.client() for _ in range(8)]
        for i, c in enumerate(others):
            self.addCleanup(c.close)
            c.execute("CLIENT", "SETNAME", "other-%d" % i)
        listed = {c["name"]: int(c["id"]) for c in r.client_list()}
        ids = [c.call("CLIENT", "ID") for c in others]
        self.assertEqual([listed.get("other-%d" % i) for i in range(8)], ids)
        for i, cid in enumerate(ids):
            self.assertEqual(r.client_kill_filter(_id=cid), 1, i)
        for c in others:
            self.assertTrue(c.is_closed(timeout=5))
        names = [c["name"] for c in r.client_list()]
        self.assertEqual([n for n in names if n.startswith("other-")], [])

    def test_server(self):
        r = self.rp
        secs, usecs = r.time()
        self.assertAlmostEqual(secs + usecs / 1e6, time.time(), delta=2)
        r.mset({"a": 1, "k": 2})
        r.set("t", "v", ex=100)
        info = r.info()
        self.assertRegex(info["redis_version"], r"^\d+\.\d+\.\d+$")
        self.assertEqual(info["tcp_port"], self.server.port)
        self.assertGreaterEqual(info["connected_clients"], 2)
        self.assertEqual(info["db0"]["keys"], 3)
        self.assertEqual(info["db0"]["expires"], 1)
        ks = r.info("keyspace")
        self.assertEqual(list(ks), ["db0"])
        self.assertEqual((ks["db0"]["keys"], ks["db0"]["expires"]), (3, 1))
        self.assertNotIn("redis_version", ks)
        self.assertIn("total_commands_processed", r.info("stats"))
        self.assertIn("used_memory", r.info("memory"))
        self.assertEqual(r.config_get("maxclients"), {"maxclients": "10000"})
        self.assertIs(r.config_set("maxclients", 9000), True)
        self.assertEqual(r.config_get("maxclients"), {"maxclients": "9000"})
        r.config_set("maxclients", 10000)
        self.assertEqual(r.config_get("nosuch"), {})
        self.assertRespError("Unknown option or number of arguments for "
                             "CONFIG SET - 'nosuch'", r.config_set,
                             "nosuch", "1")
        self.assertGreaterEqual(r.command_count(), 70)
        table = r.command()
        self.assertEqual(len(table), r.command_count())
        for name, arity, first, last, step in (
                ("get", 2, 1, 1, 1), ("set", -3, 1, 1, 1),
                ("mset", -3, 1, -1, 2), ("del", -2, 1, -1, 1),
                ("ping", -1, 0, 0, 0), ("scan", -2, 0, 0, 0)):
            c = table[name]
            self.assertEqual((c["name"], c["arity"], c["first_key_pos"],
                              c["last_key_pos"], c["step_count"]),
                             (name, arity, first, last, step))
        self.assertIn("readonly", table["get"]["flags"])
        self.assertIn("write", table["set"]["flags"])
        self.assertEqual(r.function_flush(), True)
        self.assertEqual(r.dbsize(), 3)
        self.assertIs(r.flushdb(asynchronous=True), True)
        self.assertEqual(r.dbsize(), 0)
        r.set("a", 1)
        self.assertIs(r.flushall(), True)
        self.assertEqual(r.dbsize(), 0)

    # -- strings
    def test_strings(self):
        r = self.rp
        self.assertIsNone(r.get("a"))
        self.assertIs(r.set("a", "v1"), True)
        self.assertEqual(r.get("a"), b"v1")
        self.assertIsNone(r.set("a", "v2", nx=True))
        self.assertIs(r.set("a", "v2", xx=True), True)
        self.assertIsNone(r.set("zz", "v", xx=True))
        self.assertEqual(r.set("a", "v3", get=True), b"v2")
        self.assertIs(r.set("a", "v4", ex=100), True)
        self.assertEqual(r.ttl("a"), 100)
        self.assertIs(r.set("a", "v5", keepttl=True), True)
        self.assertEqual(r.ttl("a"), 100)
        r.set("a", "v6", px=datetime.timedelta(seconds=50))
        self.assertTrue(49000 < r.pttl("a") <= 50000)
        r.set("a", "v7", exat=int(time.time()) + 300)
        self.assertIn(r.ttl("a"), (299, 300))
        r.set("a", "v8", pxat=int(time.time() * 1000) + 400000)
        self.assertIn(r.ttl("a"), (399, 400))
        self.assertIn(r.expiretime("a") - int(time.time()), (399, 400, 401))
        self.assertRespError("invalid expire time in 'set' command",
                             r.set, "a", "v", ex=0)
        self.assertRespError("syntax error", r.execute_command,
                             "SET", "a", "v", "NX", "XX")
        self.assertIs(r.setnx("n", 1), True)
        self.assertIs(r.setnx("n", 2), False)
        self.assertIs(r.setex("se", 100, "v"), True)
        self.assertEqual(r.ttl("se"), 100)
        self.assertIs(r.psetex("pse", 100000, "v"), True)
        self.assertEqual(r.ttl("pse"), 100)
        self.assertEqual(r.getset("n", "3"), b"1")
        self.assertEqual(r.getdel("n"), b"3")
        self.assertIsNone(r.getdel("n"))
        r.set("g", "gv")
        self.assertEqual(r.getex("g", ex=100), b"gv")
        self.assertEqual(r.ttl("g"), 100)
        self.assertEqual(r.getex("g", persist=True), b"gv")
        self.assertEqual(r.ttl("g"), -1)
        self.assertEqual(r.getex("g", px=200000), b"gv")
        self.assertEqual(r.ttl("g"), 200)
        self.assertEqual(r.getex("g", exat=int(time.time()) + 300), b"gv")
        self.assertEqual(r.getex("g", pxat=int(time.time() * 1000) + 1000),
                         b"gv")
        self.assertIsNone(r.getex("nokey"))
        self.assertEqual(r.append("ap", "abc"), 3)
        self.assertEqual(r.append("ap", "def"), 6)
        self.assertEqual(r.strlen("ap"), 6)
        self.assertEqual(r.getrange("ap", 1, -2), b"bcde")
        self.assertEqual(r.substr("ap", 2), b"cdef")
        self.assertEqual(r.setrange("ap", 8, "Z"), 9)
        self.assertEqual(r.get("ap"), b"abcdef\x00\x00Z")
        # binary-safe values
        blob = bytes(range(256)) * 4
        r.set(b"\x00bin\xff", blob)
        self.assertEqual(r.get(b"\x00bin\xff"), blob)
        self.assertEqual(self.rs.get("a"), "v8")

    def test_counters(self):
        r = self.rp
        self.assertEqual(r.incr("c"), 1)
        self.assertEqual(r.incr("c", 10), 11)
        self.assertEqual(r.incrby("c", -20), -9)
        self.assertEqual(r.decr("c"), -10)
        self.assertEqual(r.decrby("c", 5), -15)
        self.assertEqual(r.decr("c", -20), 5)
        self.assertEqual(r.get("c"), b"5")
        self.assertEqual(r.incrbyfloat("f", 1.5), 1.5)
        self.assertEqual(r.incrbyfloat("f", "2.25"), 3.75)
        self.assertEqual(r.incrbyfloat("c", 0.5), 5.5)
        self.assertEqual(r.get("c"), b"5.5")
        self.assertRespError(NOTINT, r.incr, "c")
        r.set("s", "abc")
        self.assertRespError(NOTINT, r.incr, "s")
        self.assertRespError("value is not a valid float",
                             r.incrbyfloat, "s", 1)
        r.set("big", 2 ** 63 - 1)
        self.assertRespError("increment or decrement would overflow",
                             r.incr, "big")
        self.assertEqual(r.get("big"), b"9223372036854775807")

    def test_mget_mset_msetnx(self):
        r = self.rp
        data = {"k%d" % i: "v%d" % i for i in range(50)}
        self.assertIs(r.mset(data), True)
        keys = sorted(data)
        self.assertEqual(r.mget(keys), [data[k].encode() for k in keys])
        self.assertEqual(r.mget(["k1", "nope", "k2"]), [b"v1", None, b"v2"])
        self.assertEqual(self.rs.mget("k3", "k4"), ["v3", "v4"])
        self.assertIs(r.msetnx({"k1": "x", "fresh": "y"}), False)
        self.assertIsNone(r.get("fresh"))
        self.assertEqual(r.get("k1"), b"v1")
        self.assertIs(r.msetnx({"f1": "1", "f2": "2", "{t}f3": "3"}), True)
        self.assertEqual(r.mget("f1", "f2", "{t}f3"), [b"1", b"2", b"3"])

    # -- keys
    def test_keys(self):
        r = self.rp
        r.mset({"a": 1, "k": 2, "x": 3})
        self.assertEqual(r.exists("a", "k", "nope", "a"), 3)
        self.assertEqual(r.touch("a", "nope"), 1)
        self.assertEqual(r.type("a"), b"string")
        self.assertEqual(r.type("nope"), b"none")
        self.assertEqual(r.delete("a", "nope"), 1)
        self.assertEqual(r.unlink("k", "x"), 2)
        self.assertEqual(r.dbsize(), 0)
        r.set("e", "v")
        self.assertIs(r.expire("e", 100), True)
        self.assertIs(r.expire("e", 50, gt=True), False)
        self.assertIs(r.expire("e", 200, gt=True), True)
        self.assertIs(r.expire("e", 300, lt=True), False)
        self.assertIs(r.expire("e", 300, nx=True), False)
        self.assertIs(r.expire("e", 150, xx=True), True)
        self.assertEqual(r.ttl("e"), 150)
        self.assertIs(r.pexpire("e", 120000), True)
        self.assertEqual(r.ttl("e"), 120)
        at = int(time.time()) + 500
        self.assertIs(r.expireat("e", at), True)
        self.assertEqual(r.expiretime("e"), at)
        self.assertIs(r.pexpireat("e", at * 1000 + 123), True)
        self.assertEqual(r.pexpiretime("e"), at * 1000 + 123)
        self.assertIs(r.expire("nope", 10), False)
        self.assertIs(r.persist("e"), True)
        self.assertEqual(r.ttl("e"), -1)
        self.assertEqual(r.pttl("nope"), -2)
        self.assertRespError("NX and XX, GT or LT options at the same time "
                             "are not compatible", r.expire, "e", 10,
                             nx=True, xx=True)
        r.mset({"user:1": 1, "user:2": 2, "other": 3})
        self.assertEqual(sorted(r.keys("user:*")), [b"user:1", b"user:2"])
        self.assertEqual(sorted(self.rs.keys()),
                         ["e", "other", "user:1", "user:2"])
        self.assertEqual(sorted(r.scan_iter(match="user:*", count=2)),
                         [b"user:1", b"user:2"])
        self.assertEqual(sorted(r.scan_iter(_type="string")),
                         [b"e", b"other", b"user:1", b"user:2"])
        self.assertEqual(list(r.scan_iter(_type="hash")), [])
        self.assertIn(r.randomkey(), [b"e", b"other", b"user:1", b"user:2"])
        self.assertIs(r.rename("other", "renamed"), True)
        self.assertEqual(r.get("renamed"), b"3")
        self.assertIs(r.renamenx("renamed", "e"), False)
        self.assertIs(r.renamenx("renamed", "fresh"), True)
        self.assertRespError("no such key", r.rename, "nope", "x")
        r.flushdb()
        self.assertIsNone(r.randomkey())

    def test_expiry_passes(self):
        r = self.rp
        r.set("p", "v", px=120)
        r.set("q", "v")
        r.pexpire("q", 120)
        r.set("keep", "v", ex=100)
        self.assertEqual(r.dbsize(), 3)
        time.sleep(0.3)
        self.assertIsNone(r.get("p"))
        self.assertEqual(r.exists("q"), 0)
        self.assertEqual(r.get("keep"), b"v")
        # active expiry: the keys go away without being touched
        for i in range(20):
            r.set("act%d" % i, "v", px=50)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if r.dbsize() == 1:
                break
            time.sleep(0.1)
        self.assertEqual(r.dbsize(), 1)

    # -- pipelines
    def test_pipeline(self):
        r = self.rp
        p = r.pipeline(transaction=False)
        for i in range(200):
            p.set("p%d" % i, i)
            p.incr("pc")
            p.get("p%d" % i)
        res = p.execute()
        self.assertEqual(len(res), 600)
        for i in range(200):
            self.assertEqual(res[3 * i:3 * i + 3], [True, i + 1, b"%d" % i])
        p = r.pipeline(transaction=False)
        p.set("s", "abc").incr("s").get("s").expire("s", 10).ttl("s")
        res = p.execute(raise_on_error=False)
        self.assertIs(res[0], True)
        self.assertIsInstance(res[1], ResponseError)
        self.assertEqual(str(res[1]), NOTINT)
        self.assertEqual(res[2:], [b"abc", True, 10])
        with self.assertRaises(ResponseError):
            r.pipeline(transaction=False).set("x", 1).incr("s").execute()
        self.assertEqual(r.get("x"), b"1")
        # a pipeline used as a context manager, decoded replies
        with self.rs.pipeline(transaction=False) as p:
            p.mset({"m1": "a", "m2": "b"})
            p.mget("m1", "m2", "nope")
            p.delete("m1", "m2")
            p.exists("m1", "m2")
            self.assertEqual(p.execute(), [True, ["a", "b", None], 2, 0])

    # -- across shards
    def test_cross_shard_many_keys(self):
        r = self.rp
        n = 3000
        plain = {"key:%d" % i: "val:%d" % i for i in range(n)}
        tagged = {"{user%d}:f%d" % (i % 7, i): "t%d" % i for i in range(n)}
        self.assertIs(r.mset(plain), True)
        self.assertIs(r.mset(tagged), True)
        self.assertEqual(r.dbsize(), 2 * n)
        for data in (plain, tagged):
            keys = list(data)
            random.Random(1).shuffle(keys)
            self.assertEqual(r.mget(keys), [data[k].encode() for k in keys])
            self.assertEqual(r.exists(*keys), n)
            self.assertEqual(r.touch(*keys), n)
        # one hash tag: all of its keys in one shard, one atomic MSET
        t3 = {k: v for k, v in tagged.items() if k.startswith("{user3}")}
        self.assertEqual(sorted(self.rs.keys("{user3}:*")), sorted(t3))
        self.assertEqual(sorted(self.rs.keys("key:*")), sorted(plain))
        self.assertEqual(sorted(self.rs.keys("key:1?")),
                         ["key:%d" % i for i in range(10, 20)])
        got = list(self.rs.scan_iter(count=100))
        self.assertEqual(set(got), set(plain) | set(tagged))
        got = set(self.rs.scan_iter(match="{user5}:*", count=1000))
        self.assertEqual(got, {k for k in tagged if k.startswith("{user5}")})
        # cursor iteration done by hand: every key at least once
        seen, cursor, calls = set(), 0, 0
        while True:
            cursor, ks = r.scan(cursor, count=500)
            seen.update(ks)
            calls += 1
            if cursor == 0:
                break
            self.assertLess(calls, 10000)
        self.assertEqual(len(seen), 2 * n)
        # delete half with DEL, the rest with UNLINK, in big batches
        keys = list(plain) + list(tagged)
        random.Random(2).shuffle(keys)
        self.assertEqual(r.delete(*keys[:n]), n)
        self.assertEqual(r.delete(*keys[:n]), 0)
        self.assertEqual(r.exists(*keys), n)
        self.assertEqual(r.unlink(*keys[n:], "missing"), n)
        self.assertEqual(r.dbsize(), 0)
        self.assertEqual(r.keys(), [])
        self.assertEqual(list(r.scan_iter()), [])

    def test_databases_across_shards(self):
        r5 = self.server.redis_py(db=5)
        self.addCleanup(r5.close)
        data = {"d5:%d" % i: i for i in range(300)}
        self.assertIs(r5.mset(data), True)
        self.rp.set("d5:0", "db0")
        self.assertEqual(r5.dbsize(), 300)
        self.assertEqual(self.rp.dbsize(), 1)
        self.assertEqual(r5.mget(sorted(data)),
                         [b"%d" % data[k] for k in sorted(data)])
        self.assertEqual(len(r5.keys("d5:*")), 300)
        self.assertEqual(len(set(r5.scan_iter(count=50))), 300)
        self.assertEqual(r5.exists(*data), 300)
        self.assertEqual(self.rp.exists(*data), 1)
        self.assertIs(r5.rename("d5:1", "d5:moved"), True)
        self.assertEqual(r5.get("d5:moved"), b"1")
        self.assertIsNone(self.rp.get("d5:moved"))
        self.assertIs(r5.flushdb(), True)
        self.assertEqual(r5.dbsize(), 0)
        self.assertEqual(self.rp.get("d5:0"), b"db0")

    def test_randomkey_finds_a_lone_key_on_any_shard(self):
        r = self.rp
        conns = [self.server.redis_py() for _ in range(4)]
        for c in conns:
            self.addCleanup(c.close)
        for key in ("a", "k", "x", "{t}q", "lone:7"):
            r.flushdb()
            r.set(key, "v")
            for c in conns:
                self.assertEqual(c.randomkey(), key.encode())
                self.assertEqual(c.keys(), [key.encode()])
                self.assertEqual(list(c.scan_iter()), [key.encode()])

    def test_cross_shard_rename(self):
        r = self.rp
        # pairs of names that land on different shards with 2 workers
        for i in range(20):
            src, dst = "src%d" % i, "dst%d" % i
            r.set(src, "value%d" % i, ex=1000 + i)
            self.assertIs(r.rename(src, dst), True)
            self.assertIsNone(r.get(src))
            self.assertEqual(r.get(dst), b"value%d" % i)
            self.assertIn(r.ttl(dst), (999 + i, 1000 + i))
        self.assertEqual(r.dbsize(), 20)
        for i in range(20):
            self.assertIs(r.renamenx("dst%d" % i, "dst%d" % ((i + 1) % 20)),
                          False)
        self.assertEqual(r.dbsize(), 20)

    def test_rename_keeps_sorted_set_encoding(self):
        # Redis keeps a renamed value's encoding, and for a sorted set it
        # shows: a score -0 reads back -0 from a skiplist, 0 from a listpack
        # (regression: a RENAME across shards rebuilt it under the limits)
        r = self.rp
        n = max(self.server_workers, 1)
        for i in range(4):
            # with 2 workers, the new names are on the other shard
            src = h.key_on(0, "zs%d" % i, n).decode()
            dst = h.key_on(n - 1, "zd%d" % i, n).decode()
            dst2 = h.key_on(n - 1, "zc%d" % i, n).decode()
            r.zadd(src, {"M" * 70: 1, "x": 5})         # a long member: skiplist
            r.zrem(src, "M" * 70)
            self.assertIs(r.rename(src, dst), True)
            r.zadd(dst, {"y": -0.0})
            self.assertEqual(str(r.zscore(dst, "y")), "-0.0")
            r.zadd(src, {"a": 1, "b": 2, "c": 3})     # small: listpack
            r.config_set("zset-max-listpack-entries", 2)
            try:
                self.assertIs(r.renamenx(src, dst2), True)
                r.zadd(dst2, {"a": -0.0})
                self.assertEqual(str(r.zscore(dst2, "a")), "0.0")
            finally:
                r.config_set("zset-max-listpack-entries", 128)

    def test_large_values(self):
        r = self.rp
        for size in (0, 1, 1000, 65536, 1 << 20, 3 << 20):
            v = os.urandom(size)
            for key in ("big-a", "big-k"):
                self.assertIs(r.set(key, v), True)
                self.assertEqual(r.get(key), v)
                self.assertEqual(r.strlen(key), size)
        self.assertEqual(r.append("big-a", b"tail"), (3 << 20) + 4)
        self.assertEqual(r.getrange("big-a", -4, -1), b"tail")


class PyOneWorker(PyMixin, h.ServerTestCase):
    server_workers = 1


class PyTwoWorkers(PyMixin, h.ServerTestCase):
    server_workers = 2


if __name__ == "__main__":
    unittest.main()
