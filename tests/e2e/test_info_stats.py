"""INFO's error and change counters: errorstats, commandstats'
rejected_calls / failed_calls, total_error_replies, rdb_changes_since_last_save.

Redis's own tests of these (unit/info) are tagged external:skip, so
tests/redis-suite.sh never runs them: these are those tests (the ones
ember has the commands for), run on 1 and 2 workers, where a command's
errors are counted on the shard that ran it and INFO sums the shards.
EMBER_TARGET=redis runs them against redis-server (ember-only cases skip).
"""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import Simple  # noqa: E402

OK = Simple(b"OK")


def info(c, section):
    text = bytes(c.execute("INFO", section)).decode()
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def errorstat(c, prefix):
    return info(c, "errorstats").get("errorstat_" + prefix, "")


def cmdstat(c, cmd):
    return info(c, "commandstats").get("cmdstat_" + cmd, "")


def total_errors(c):
    return int(info(c, "stats")["total_error_replies"])


def dirty(c):
    return int(info(c, "persistence")["rdb_changes_since_last_save"])


class InfoStatsBase(object):
    """The tests; subclasses pick the worker count."""

    server_workers = 1

    @classmethod
    def setUpClass(cls):
        if h.target_kind() == "redis" and cls.server_workers != 1:
            raise unittest.SkipTest("one redis-server run is enough")
        cls.server = h.start_server(workers=cls.server_workers)

    @classmethod
    def tearDownClass(cls):
        s, cls.server = cls.server, None
        if s is not None:
            s.stop()

    def setUp(self):
        self.r = self.server.client()
        self.addCleanup(self.r.close)
        h.flush_all(self.r)
        self.assertEqual(self.r.call("CONFIG", "RESETSTAT"), OK)

    def test_rejected_unknown_command(self):
        r = self.r
        self.assertEqual(total_errors(r), 0)
        self.assertEqual(errorstat(r, "ERR"), "")
        self.assertTrue(r.call("asdf").text.startswith("ERR unknown"))
        self.assertEqual(errorstat(r, "ERR"), "count=1")
        self.assertEqual(total_errors(r), 1)
        self.assertEqual(r.call("CONFIG", "RESETSTAT"), OK)
        self.assertEqual(errorstat(r, "ERR"), "")
        self.assertEqual(total_errors(r), 0)

    def test_rejected_wrong_arity(self):
        r = self.r
        self.assertEqual(r.call("SET", "k").text,
                         "ERR wrong number of arguments for 'set' command")
        self.assertEqual(errorstat(r, "ERR"), "count=1")
        self.assertRegex(cmdstat(r, "set"),
                         r"^calls=0,.*,rejected_calls=1,failed_calls=0$")
        # after a rejected command, valid ones are counted properly
        self.assertEqual(r.call("SET", "k1", "v1"), OK)
        self.assertEqual(r.call("SET", "k2", "v2"), OK)
        self.assertRegex(cmdstat(r, "set"),
                         r"^calls=2,.*,rejected_calls=1,failed_calls=0$")
        self.assertEqual(total_errors(r), 1)

    def test_rejected_by_oom(self):
        r = self.r
        self.assertEqual(r.call("CONFIG", "SET", "maxmemory", "1"), OK)
        try:
            for k in ("a", "b", "c", "d"):          # both shards with 2 workers
                self.assertTrue(r.call("SET", k, "v").text.startswith("OOM "))
        finally:
            self.assertEqual(r.call("CONFIG", "SET", "maxmemory", "0"), OK)
        self.assertEqual(errorstat(r, "OOM"), "count=4")
        self.assertRegex(cmdstat(r, "set"),
                         r"^calls=0,.*,rejected_calls=4,failed_calls=0$")
        self.assertEqual(total_errors(r), 4)

    def test_failed_calls_by_prefix(self):
        """Errors of commands that ran, on whichever shard owns the key:
        counted once each, by their first word, summed over shards."""
        r = self.r
        keys = ["str:%d" % i for i in range(16)]
        for k in keys:
            self.assertEqual(r.call("SET", k, "x"), OK)
        for k in keys:
            self.assertEqual(r.call("INCR", k).text,
                             "ERR value is not an integer or out of range")
            self.assertTrue(r.call("SADD", k, "m").text.startswith("WRONGTYPE"))
        self.assertEqual(errorstat(r, "ERR"), "count=16")
        self.assertEqual(errorstat(r, "WRONGTYPE"), "count=16")
        self.assertRegex(cmdstat(r, "incr"),
                         r"^calls=16,.*,rejected_calls=0,failed_calls=16$")
        self.assertRegex(cmdstat(r, "sadd"),
                         r"^calls=16,.*,rejected_calls=0,failed_calls=16$")
        self.assertEqual(total_errors(r), 32)
        # the section lists prefixes in byte order, in the default INFO too
        text = bytes(r.execute("INFO")).decode()
        self.assertIn("# Errorstats\r\nerrorstat_ERR:count=16\r\n"
                      "errorstat_WRONGTYPE:count=16\r\n", text)
        self.assertRegex(bytes(r.execute("INFO", "everything")).decode(),
                         r"# Commandstats\r\n(cmdstat_.*\r\n)+\r\n# Errorstats\r\n")

    def test_split_commands_counted_once(self):
        """A command split across shards is one command in INFO, as in
        Redis: its pieces on the other shards are not counted again."""
        r = self.r
        keys = ["key:%d" % i for i in range(12)]     # spread over the shards
        total0 = int(info(r, "stats")["total_commands_processed"])
        self.assertEqual(r.call("MSET", *[a for k in keys for a in (k, "v")]), OK)
        self.assertEqual(len(r.call("MGET", *keys)), 12)
        self.assertEqual(r.call("MSETNX", *[a for i in range(8)
                                            for a in ("n:%d" % i, "1")]), 1)
        self.assertEqual(r.call("EXISTS", *keys), 12)
        self.assertEqual(r.call("TOUCH", *keys), 12)
        self.assertEqual(r.call("UNLINK", *keys[:6]), 6)
        self.assertEqual(r.call("DEL", *keys), 6)
        self.assertEqual(r.call("DBSIZE"), 8)
        self.assertEqual(len(r.call("KEYS", "n:*")), 8)
        # 9 commands, and the INFO that read total0 (counted after it ran)
        self.assertEqual(int(info(r, "stats")["total_commands_processed"]) - total0, 10)
        for cmd in ("mset", "mget", "msetnx", "exists", "touch", "unlink", "del",
                    "dbsize", "keys"):
            self.assertRegex(cmdstat(r, cmd), r"^calls=1,", cmd)

    def test_changes_since_last_save(self):
        r = self.r
        d0 = dirty(r)
        self.assertEqual(r.call("SET", "a", "1"), OK)
        self.assertEqual(r.call("MSET", "b", "1", "c", "2", "d", "3"), OK)
        self.assertEqual(r.call("DEL", "a", "b", "nope"), 2)
        self.assertEqual(r.call("HSET", "h", "f1", "v", "f2", "v"), 2)
        self.assertEqual(r.call("SADD", "s", "x", "x", "y"), 2)
        self.assertIsNone(r.call("GET", "a"))
        self.assertEqual(r.call("INCR", "n"), 1)
        self.assertEqual(dirty(r) - d0, 1 + 3 + 2 + 2 + 2 + 1)
        # RESETSTAT keeps it (Redis keeps server.dirty)
        self.assertEqual(r.call("CONFIG", "RESETSTAT"), OK)
        self.assertEqual(dirty(r) - d0, 11)
        # FLUSHALL counts the keys it removed: c d h s n
        self.assertEqual(r.call("FLUSHALL"), OK)
        self.assertEqual(dirty(r) - d0, 16)


class InfoStats1Worker(InfoStatsBase, unittest.TestCase):
    server_workers = 1


class InfoStats2Workers(InfoStatsBase, unittest.TestCase):
    server_workers = 2

    @unittest.skipIf(h.target_kind() != "ember", "ember's shards only")
    def test_rejected_crossslot(self):
        r = self.r
        # two keys of different shards (the slot map is ember's)
        for i in range(1, 200):
            e = r.call("BLPOP", "k0", "k%d" % i, 1)
            if isinstance(e, h.Error) and e.code == "CROSSSLOT":
                break
        else:
            self.fail("no key pair across the shards")
        self.assertEqual(errorstat(r, "CROSSSLOT"), "count=1")
        self.assertRegex(cmdstat(r, "blpop"), r",rejected_calls=1,")


if __name__ == "__main__":
    unittest.main()
