"""COMMAND INFO, LIST, COUNT and GETKEYS against redis-server 7.0.

Cluster clients and proxies read COMMAND INFO to find a command's keys
(first/last/step and the key specifications), whether it writes, its ACL
categories and its tips; ACL tools read COMMAND LIST FILTERBY.  This test
starts a redis-server of its own and compares the target with it:

  * COMMAND INFO of every public command of the target (its COMMAND LIST)
    and of every subcommand the target has ("client|kill"), all ten fields,
    in RESP2 and RESP3, types included (a RESP3 set is not an array, a
    simple string not a bulk): name, arity, flags, key positions, ACL
    categories, tips, key specs, subcommands (compared by name, as Redis
    lists them in hash order);
  * COMMAND LIST, bare and with every FILTERBY form (patterns, every ACL
    category Redis knows, MODULE) and its syntax errors, as a set: Redis's
    list restricted to what the target has;
  * COMMAND COUNT, COMMAND and COMMAND INFO without names: consistent with
    COMMAND LIST (top-level commands only, as in Redis);
  * COMMAND GETKEYS of every command and subcommand with keys over a sweep
    of argument counts, and of a list of edge cases (key counts that are no
    strict integers, wrong arities, keyless commands).

Where ember differs on purpose the difference is listed below with its
reason, and test_listed_differences_hold checks that each still is one.
EMBER_TARGET=redis compares redis-server with itself: no difference is
allowed then.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

# Subcommands Redis has that ember does not (it answers them as unknown
# subcommands): absent from ember's COMMAND INFO of their container and
# from its COMMAND LIST, as in test_command_docs.py.
from test_command_docs import MISSING_SUBCOMMANDS  # noqa: E402

# COMMAND GETKEYS of these full commands differs: Redis finds the
# subcommand (and says it has no keys), ember has no such subcommand.
GETKEYS_DIFFERENCES = {
    ("client", "pause", "10"): "ember has no CLIENT PAUSE: "
                               "'Invalid command specified'",
}

# COMMAND GETKEYS edge cases, beyond the sweep of argument counts.
GETKEYS_CASES = [
    # key counts: Redis's key specs want a strict integer; when they give
    # no answer its key functions read the count with atoi() and put the
    # destination last
    ("zunion", "01", "a"), ("zunion", "+1", "a"), ("zunion", "1x", "a"),
    ("zunion", " 1", "a"), ("zunion", "-0", "a"), ("zunion", "0", "a"),
    ("zunion", "4294967297", "a"), ("zunion", "99999999999999999999", "a"),
    ("zunion", "2", "a"), ("zunion", "1", "a", "weights", "1"),
    ("zunionstore", "d", "1x", "a"), ("zunionstore", "d", "01", "a", "b"),
    ("zunionstore", "d", "2", "a", "b"), ("zunionstore", "d", "3", "a", "b"),
    ("zunionstore", "d", "0", "a", "b"), ("zunionstore", "d", "-1", "a", "b"),
    ("zinterstore", "d", "2", "a", "b", "aggregate", "max"),
    ("zdiffstore", "d", "1", "a"), ("zdiff", "2", "a", "b", "withscores"),
    ("zintercard", "2", "a", "b", "limit", "1"),
    ("lmpop", "1", "a", "left"), ("lmpop", "0", "a", "left"),
    ("lmpop", "01", "a", "left"), ("lmpop", "3", "a", "left"),
    ("lmpop", "2", "a", "left"),
    ("blmpop", "0", "2", "a", "b", "left"), ("blmpop", "0", "02", "a", "b", "left"),
    ("zmpop", "1", "a", "min"), ("bzmpop", "1", "1", "a", "min"),
    ("sintercard", "2", "a", "b"), ("sintercard", "02", "a", "b"),
    ("sintercard", "3", "a", "b"),
    # ranges, steps, the last key from the end
    ("mset", "a", "1", "b"), ("mset", "a", "1", "b", "2"),
    ("msetnx", "a", "1", "b", "2"), ("blpop", "a", "b", "0"),
    ("bzpopmin", "a", "0"), ("del", "a", "b", "c"),
    ("sdiffstore", "d", "a", "b", "c"), ("rename", "a", "b"),
    ("lmove", "a", "b", "left", "right"), ("zrangestore", "d", "s", "0", "1"),
    ("set", "k", "v"), ("set", "k", "v", "get"), ("set", "k", "v", "GET", "ex", "1"),
    # subcommands, case, unknown names, keyless commands, arities
    ("object", "encoding", "k"), ("OBJECT", "ENCODING", "k"),
    ("memory", "usage", "k", "samples", "5"), ("object", "nosuch", "k"),
    ("object", "help"), ("client", "kill", "x"), ("client", "id"),
    ("client", "pause", "10"), ("config", "get", "x"),
    ("function", "load", "x"), ("debug", "object", "k"), ("time", "x"),
    ("ping", "x"), ("nosuch", "a"), ("get", "a", "b"), ("sintercard", "1"),
    ("zunion", "1"), ("bzmpop", "1", "1", "a"),
    # more keys than a small buffer holds (Redis's introspection-2 test)
    ("zunionstore", "target", "260") + tuple("key%d" % i for i in range(260)),
    ("del",) + tuple("key%d" % i for i in range(300)),
]

# COMMAND LIST FILTERBY PATTERN patterns.
PATTERNS = ["client*", "*|*", "*", "z*", "CLIENT|K*", "g?t", "[a-c]*",
            "*list*", "*|help", "client|id", "nosuch", "", "\\*"]

# Syntax errors of COMMAND LIST.
LIST_SYNTAX_ERRORS = [
    ["foo"], ["filterby"], ["filterby", "pattern"],
    ["filterby", "pattern", "a", "b"], ["filterby", "bad", "x"],
    ["filterby", "pattern", "a", "filterby", "pattern", "b"],
    ["pattern", "a", "b"], ["filterby", "aclcat", "read", "x"],
]


def typed(v):
    """v with its RESP type in it, so that a set differs from an array and
    a simple string from a bulk string (the harness's Set, Simple... are
    list and bytes subclasses, which == alone does not tell apart)."""
    if isinstance(v, h.Map):
        return ("map", [(typed(k), typed(x)) for k, x in v.items()])
    if isinstance(v, h.Set):
        return ("set", [typed(x) for x in v])
    if isinstance(v, h.Push):
        return ("push", [typed(x) for x in v])
    if isinstance(v, list):
        return ("array", [typed(x) for x in v])
    return (type(v).__name__, v)


def name_of(entry):
    return entry[0].decode()


class CommandInfoTest(h.ServerTestCase):

    ref = None                     # the reference redis-server

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.ref = h.start_server(kind="redis")
            cls.read_lists()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def read_lists(cls):
        with cls.server.client() as c:
            cls.ember = b"ember_version:" in c.call("INFO", "server")
            cls.list = [n.decode() for n in c.call("COMMAND", "LIST")]
            cls.names = sorted(n for n in cls.list if "|" not in n)
            info = c.call("COMMAND", "INFO", *cls.names)
            cls.docs = c.call("COMMAND", "DOCS", *cls.names)
        cls.subs = {name_of(e): sorted(name_of(s) for s in e[9]) for e in info}
        cls.all_subs = sorted(s for v in cls.subs.values() for s in v)
        cls.has = set(cls.names) | set(cls.all_subs)
        with cls.ref.client() as c:
            cls.ref_list = [n.decode() for n in c.call("COMMAND", "LIST")]
            cls.categories = sorted(n.decode() for n in c.call("ACL", "CAT"))

    @classmethod
    def tearDownClass(cls):
        ref, cls.ref = cls.ref, None
        try:
            if ref is not None:
                ref.stop()
        finally:
            super().tearDownClass()

    # -- helpers

    def missing(self, name):
        return self.ember and name in MISSING_SUBCOMMANDS

    def both(self, resp, *args):
        """The reply of the target and of redis-server to one command."""
        with self.server.client(resp=resp) as c:
            got = c.call(*args)
        with self.ref.client(resp=resp) as c:
            ref = c.call(*args)
        return got, ref

    def expected_entry(self, ref):
        """Redis's COMMAND INFO entry as the target should give it: without
        the subcommands the target does not have; subcommands in name
        order (Redis gives them in its hash table's order)."""
        if ref is None or not isinstance(ref[9], list) or not ref[9]:
            return ref
        entry = list(ref)
        subs = [s for s in ref[9] if not self.missing(name_of(s))]
        entry[9] = type(ref[9])(sorted(subs, key=name_of))
        return entry

    def sorted_entry(self, got):
        if got is None or not isinstance(got[9], list) or not got[9]:
            return got
        entry = list(got)
        entry[9] = type(got[9])(sorted(got[9], key=name_of))
        return entry

    def check_entries(self, names, resp):
        got, ref = self.both(resp, "COMMAND", "INFO", *names)
        self.assertEqual(len(got), len(names))
        for name, g, r in zip(names, got, ref):
            with self.subTest(command=name, resp=resp):
                self.assertIsNotNone(g, "no COMMAND INFO")
                self.assertEqual(typed(self.sorted_entry(g)),
                                 typed(self.expected_entry(r)))

    def expected_list(self, ref_names):
        """Redis's COMMAND LIST restricted to what the target has."""
        return sorted(n for n in ref_names if n.decode() in self.has)

    # -- COMMAND INFO

    def test_info_every_command(self):
        """COMMAND INFO <command>: all ten fields of every public command,
        a container's subcommands each with their own, are Redis's."""
        self.assertGreater(len(self.names), 100)
        for resp in (2, 3):
            self.check_entries(self.names, resp)

    def test_info_every_subcommand(self):
        """COMMAND INFO <container|sub> names a subcommand, as in Redis."""
        self.assertGreater(len(self.all_subs), 30)
        for resp in (2, 3):
            self.check_entries(self.all_subs, resp)

    def test_info_key_specs(self):
        """Spot checks of what the comparison covers: SET's key spec with
        its notes, movable keys and the legacy range they leave."""
        with self.client(resp=3) as c:
            s, zu, sic, sds = c.call("COMMAND", "INFO", "set", "zunionstore",
                                     "sintercard", "sdiffstore")
        self.assertEqual(s[8][0][b"notes"],
                         b"RW and ACCESS due to the optional `GET` argument")
        self.assertEqual(list(s[8][0][b"flags"]),
                         [b"RW", b"access", b"update", b"variable_flags"])
        self.assertIn(b"movablekeys", zu[2])
        self.assertEqual(zu[3:6], [1, 1, 1])
        self.assertEqual(sic[3:6], [0, 0, 0])
        self.assertEqual(sds[3:6], [1, -1, 1])
        self.assertEqual(zu[8][1][b"find_keys"][b"type"], b"keynum")

    def test_info_names_and_case(self):
        """Upper case, unknown names and malformed container|sub names."""
        names = ["GET", "Client|Kill", "nosuch", "client|", "|id", "get|x",
                 "client|id|x", "client|nosuch", "COMMAND|LIST", "get"]
        for resp in (2, 3):
            got, ref = self.both(resp, "COMMAND", "INFO", *names)
            for name, g, r in zip(names, got, ref):
                with self.subTest(name=name, resp=resp):
                    self.assertEqual(typed(self.sorted_entry(g)),
                                     typed(self.expected_entry(r)))

    def test_info_of_every_command_at_once(self):
        """COMMAND and COMMAND INFO without names give every top-level
        command once, as COMMAND INFO <name> does; COMMAND COUNT counts
        them, as in Redis (COMMAND LIST adds the subcommands)."""
        for resp in (2, 3):
            with self.client(resp=resp) as c:
                bare = c.call("COMMAND")
                every = c.call("COMMAND", "INFO")
                named = c.call("COMMAND", "INFO", *self.names)
                count = c.call("COMMAND", "COUNT")
            by_name = {name_of(e): typed(e) for e in named}
            for got in (bare, every):
                self.assertEqual(len(got), len(self.names))
                self.assertEqual({name_of(e): typed(e) for e in got}, by_name)
            self.assertEqual(count, len(self.names))
        with self.ref.client() as c:
            self.assertEqual(c.call("COMMAND", "COUNT"),
                             sum(b"|" not in n for n in c.call("COMMAND", "LIST")))

    def test_info_and_docs_agree(self):
        """A container's subcommands are the same in COMMAND INFO and
        COMMAND DOCS."""
        docs = dict(zip(self.docs[::2], self.docs[1::2]))
        for name in self.names:
            entry = docs[name.encode()]
            fields = dict(zip(entry[::2], entry[1::2]))
            subs = fields.get(b"subcommands", [])
            with self.subTest(command=name):
                self.assertEqual(sorted(s.decode() for s in subs[::2]),
                                 self.subs[name])

    # -- COMMAND LIST

    def test_list(self):
        """COMMAND LIST: every command and subcommand once; Redis's list
        restricted to them; Redis drops only the listed subcommands of
        ember's containers."""
        self.assertEqual(len(self.list), len(set(self.list)))
        self.assertEqual(set(self.list), self.has)
        self.assertEqual(sorted(n.encode() for n in self.list),
                         self.expected_list(n.encode() for n in self.ref_list))
        dropped = {n for n in self.ref_list if n not in self.has and
                   n.split("|")[0] in self.subs}
        self.assertEqual(dropped, {n for n in MISSING_SUBCOMMANDS
                                   if self.missing(n)})

    def check_filter(self, kind, arg):
        for resp in (2, 3):
            got, ref = self.both(resp, "COMMAND", "LIST", "FILTERBY", kind, arg)
            with self.subTest(filterby=kind, arg=arg, resp=resp):
                self.assertEqual(type(got), list, got)
                self.assertEqual(len(got), len(set(got)))
                self.assertEqual(sorted(got), self.expected_list(ref))
        return got

    def test_list_filterby_pattern(self):
        """FILTERBY PATTERN: a case-insensitive glob over full names."""
        for pattern in PATTERNS:
            self.check_filter("PATTERN", pattern)
        got = self.check_filter("pattern", "CLIENT*")
        self.assertIn(b"client", got)
        self.assertIn(b"client|kill", got)
        got = self.check_filter("Pattern", "*|*")
        self.assertEqual(sorted(n.decode() for n in got), self.all_subs)

    def test_list_filterby_aclcat(self):
        """FILTERBY ACLCAT: every category Redis knows (any case), and
        names that are none (empty lists)."""
        self.assertGreater(len(self.categories), 15)
        for cat in self.categories:
            self.check_filter("ACLCAT", cat)
        for cat in ["STRING", "Connection", "@string", "nosuch", "", "*"]:
            self.check_filter("aclcat", cat)
        self.assertIn(b"client|kill", self.check_filter("aclcat", "dangerous"))
        self.assertEqual(self.check_filter("aclcat", "nosuch"), [])

    def test_list_filterby_module(self):
        """FILTERBY MODULE: neither loads a module, so nothing."""
        for module in ["x", "", "ember"]:
            self.assertEqual(self.check_filter("MODULE", module), [])

    def test_list_syntax_errors(self):
        for args in LIST_SYNTAX_ERRORS:
            for resp in (2, 3):
                got, ref = self.both(resp, "COMMAND", "LIST", *args)
                with self.subTest(args=args, resp=resp):
                    self.assertIsInstance(ref, h.Error)
                    self.assertEqual(typed(got), typed(ref))

    # -- COMMAND GETKEYS

    def getkeys_lines(self):
        """Full commands to try: each command and subcommand with keys at
        each argument count from its arity to three more (words numbered,
        so that key counts parse), and the edge cases."""
        with self.client() as c:
            info = c.call("COMMAND", "INFO", *(self.names + self.all_subs))
        lines = []
        for e in info:
            if not e[8]:
                continue
            words = name_of(e).split("|")
            arity = e[1]
            counts = [arity] if arity > 0 else range(-arity, -arity + 4)
            for n in counts:
                lines.append(tuple(words) + tuple(
                    str(i) for i in range(1, n - len(words) + 1)))
        self.assertGreater(len(lines), 300)
        return lines + GETKEYS_CASES

    def test_getkeys(self):
        """COMMAND GETKEYS and GETKEYSANDFLAGS find the keys Redis finds,
        with the flags it gives them, or give its error."""
        lines = self.getkeys_lines()
        for sub, resp in [(s, r) for s in ("GETKEYS", "GETKEYSANDFLAGS")
                          for r in (2, 3)]:
            with self.server.client(resp=resp) as c:
                got = c.pipeline([("COMMAND", sub) + l for l in lines])
            with self.ref.client(resp=resp) as c:
                ref = c.pipeline([("COMMAND", sub) + l for l in lines])
            for line, g, r in zip(lines, got, ref):
                if self.ember and line in GETKEYS_DIFFERENCES:
                    continue
                with self.subTest(subcommand=sub, command=line, resp=resp):
                    self.assertEqual(typed(g), typed(r))

    # -- the differences

    def test_listed_differences_hold(self):
        """Against ember: each missing subcommand is Redis's, absent from
        ember's COMMAND INFO and LIST, and unknown to ember; each GETKEYS
        difference is one."""
        if not self.ember:
            self.skipTest("the differences are ember's")
        for name, why in sorted(MISSING_SUBCOMMANDS.items()):
            container, sub = name.split("|")
            with self.subTest(subcommand=name, reason=why):
                self.assertIn(name, self.ref_list)
                self.assertNotIn(name, self.list)
                self.assertNotIn(name, self.subs[container])
                self.assertEqual(self.r.call("COMMAND", "INFO", name), [None])
                reply = self.r.call(container, sub, "0", "0")
                self.assertIsInstance(reply, h.Error)
                self.assertIn("nknown subcommand", reply.text)
        for line, why in sorted(GETKEYS_DIFFERENCES.items()):
            with self.subTest(command=line, reason=why):
                got, ref = self.both(2, "COMMAND", "GETKEYS", *line)
                self.assertNotEqual(typed(got), typed(ref))
                self.assertEqual(got, b"ERR Invalid command specified")


if __name__ == "__main__":
    unittest.main()
