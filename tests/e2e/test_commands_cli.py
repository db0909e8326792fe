"""Every command of this phase through redis-cli, RESP2 and `redis-cli -3`,
checking the exact text redis-cli prints (its --no-raw form, which shows
the reply types: (integer), (nil), (error), quoted bulks, RESP3 maps and
doubles), error cases included, with 1 and 2 workers.

Each command is one redis-cli run (so a failure names the command); the
connection-state commands (SELECT, CLIENT SETNAME, HELLO) run as one
redis-cli session fed on stdin.  Keys are chosen to land on both shards
when there are two workers ('a' and 'k' hash to different halves of the
slot space).  The expectations are Redis 7.0's: EMBER_TARGET=redis runs
the same file against redis-server.
"""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

ARITY = "(error) ERR wrong number of arguments for '%s' command"
NOTINT = "(error) ERR value is not an integer or out of range"
SYNTAX = "(error) ERR syntax error"
NOTFLOAT = "(error) ERR value is not a valid float"
WRONGTYPE = ("(error) WRONGTYPE Operation against a key holding the wrong "
             "kind of value")
MAXI = "9223372036854775807"
MINI = "-9223372036854775808"


class CliMixin(object):
    """The checks; the concrete classes below pick the worker count."""

    # -- helpers
    def cli(self, *args, resp3=False, db=None, raw=False, stdin=None):
        extra = ["--raw"] if raw else ["--no-raw"]
        if db is not None:
            extra += ["-n", str(db)]
        r = self.server.cli(*args, resp3=resp3, extra=extra, input=stdin)
        self.assertEqual(r.returncode, 0, "redis-cli %s failed: %s" %
                         (" ".join(map(str, args)), r.stderr))
        self.assertNotIn("Could not connect", r.stderr)
        return r.stdout[:-1] if r.stdout.endswith("\n") else r.stdout

    def expect(self, args, out, resp3=False, db=None):
        """One command (a list of words), its exact --no-raw output."""
        got = self.cli(*args, resp3=resp3, db=db)
        self.assertEqual(got, out, "redis-cli%s %s" %
                         (" -3" if resp3 else "", " ".join(map(str, args))))

    def expect_all(self, cases, resp3=False, db=None):
        for case in cases:
            args, out = case[0], case[1]
            if resp3 and len(case) > 2:
                out = case[2]
            self.expect(args, out, resp3=resp3, db=db)

    def session(self, lines, resp3=False, db=None):
        """Several commands on one connection (redis-cli reading stdin);
        returns the output lines."""
        return self.cli(resp3=resp3, db=db,
                        stdin="".join(l + "\n" for l in lines)).split("\n")

    def integer(self, args, resp3=False):
        out = self.cli(*args, resp3=resp3)
        m = re.match(r"\(integer\) (-?\d+)\Z", out)
        self.assertTrue(m, "%s: expected an integer, got %r" % (args, out))
        return int(m.group(1))

    def both(self, fn):
        """Run fn(resp3) for RESP2, then flush and run it for RESP3."""
        for resp3 in (False, True):
            with self.subTest(resp3=resp3):
                h.flush_all(self.r)
                fn(resp3)

    # -- connection
    def test_ping_echo(self):
        def run(resp3):
            self.expect_all([
                (["PING"], "PONG"),
                (["ping", "hello world"], '"hello world"'),
                (["PING", "a", "b"], ARITY % "ping"),
                (["ECHO", "hi there"], '"hi there"'),
                (["ECHO", ""], '""'),
                (["echo"], ARITY % "echo"),
                (["ECHO", "a", "b"], ARITY % "echo"),
            ], resp3)
        self.both(run)

    def test_hello(self):
        out = self.cli("HELLO", "2").split("\n")
        self.assertEqual(len(out), 14, out)
        fields = dict(zip([l.split(") ", 1)[1] for l in out[0::2]],
                          [l.split(") ", 1)[1] for l in out[1::2]]))
        self.assertEqual(fields['"server"'], '"redis"')
        self.assertRegex(fields['"version"'], r'^"\d+\.\d+\.\d+"$')
        self.assertEqual(fields['"proto"'], "(integer) 2")
        self.assertRegex(fields['"id"'], r"^\(integer\) \d+$")
        self.assertEqual(fields['"mode"'], '"standalone"')
        self.assertEqual(fields['"role"'], '"master"')
        self.assertEqual(fields['"modules"'], "(empty array)")
        out = self.cli("HELLO", "3", resp3=True).split("\n")
        self.assertEqual(len(out), 7, out)
        self.assertEqual(out[0], '1# "server" => "redis"')
        self.assertEqual(out[2], '3# "proto" => (integer) 3')
        self.assertEqual(out[4], '5# "mode" => "standalone"')
        self.assertEqual(out[5], '6# "role" => "master"')
        self.assertEqual(out[6], '7# "modules" => (empty array)')
        self.expect_all([
            (["HELLO", "4"], "(error) NOPROTO unsupported protocol version"),
            (["HELLO", "1"], "(error) NOPROTO unsupported protocol version"),
            (["HELLO", "abc"], "(error) ERR Protocol version is not an "
             "integer or out of range"),
            (["HELLO", "3", "BOGUS"],
             "(error) ERR Syntax error in HELLO option 'BOGUS'"),
        ])
        # SETNAME inside HELLO names the connection.
        lines = self.session(["HELLO 2 SETNAME fromhello", "CLIENT GETNAME"])
        self.assertEqual(lines[-1], '"fromhello"')

    def test_select_and_dbs(self):
        lines = self.session([
            "SELECT 3", "SET dbkey three", "GET dbkey", "DBSIZE",
            "SELECT 0", "GET dbkey", "DBSIZE",
            "SELECT 16", "SELECT -1", "SELECT abc", "SELECT", "GET dbkey"])
        self.assertEqual(lines, [
            "OK", "OK", '"three"', "(integer) 1",
            "OK", "(nil)", "(integer) 0",
            "(error) ERR DB index is out of range",
            "(error) ERR DB index is out of range",
            NOTINT, ARITY % "select", "(nil)"])
        self.expect(["GET", "dbkey"], '"three"', db=3)
        self.expect(["DBSIZE"], "(integer) 1", db=3)

    def test_quit(self):
        self.expect(["QUIT"], "OK")
        self.expect(["QUIT"], "OK", resp3=True)

    def test_client(self):
        cid = self.integer(["CLIENT", "ID"])
        self.assertGreater(cid, 0)
        lines = self.session([
            "CLIENT GETNAME", "CLIENT SETNAME worker-7", "CLIENT GETNAME",
            "CLIENT SETNAME", "CLIENT SETNAME \"a b\"", "CLIENT GETNAME",
            "CLIENT INFO", "CLIENT SETNAME \"\"", "CLIENT GETNAME",
            "CLIENT BOGUS", "CLIENT SETNAME again", "CLIENT LIST"])
        self.assertEqual(lines[0:6], [
            "(nil)", "OK", '"worker-7"', ARITY % "client|setname",
            "(error) ERR Client names cannot contain spaces, newlines or "
            "special characters.", '"worker-7"'])
        # (redis-cli prints CLIENT INFO and LIST unquoted)
        self.assertRegex(lines[6], r'^id=\d+ addr=127\.0\.0\.1:\d+ .*'
                         r'name=worker-7 .*db=0 .*cmd=client\|info .*resp=2')
        self.assertEqual(lines[7:11], [
            "OK", "(nil)",
            "(error) ERR unknown subcommand 'BOGUS'. Try CLIENT HELP.", "OK"])
        # CLIENT LIST: one line per client; ours is there, named.
        mine = [l for l in lines[11:] if " name=again " in l]
        self.assertEqual(len(mine), 1, lines[11:])
        self.assertRegex(mine[0], r"^id=\d+ addr=127\.0\.0\.1:\d+ .* "
                         r"cmd=client\|list ")
        for l in lines[11:]:
            self.assertRegex(l, r"^id=\d+ addr=\S+ laddr=\S+ fd=\d+ name=")
        # the filter form counts the clients it killed; the old
        # CLIENT KILL addr:port form errors
        self.expect(["CLIENT", "KILL", "ID", "999999999"], "(integer) 0")
        self.expect(["CLIENT", "KILL", "1.2.3.4:5"],
                    "(error) ERR No such client")

    def test_client_kill(self):
        # A second connection (raw client) is killed by id through the cli.
        other = self.client()
        oid = other.execute("CLIENT", "ID")
        self.assertEqual(other.call("CLIENT", "SETNAME", "victim"),
                         h.Simple(b"OK"))
        listing = self.cli("CLIENT", "LIST", raw=True)
        self.assertIn("id=%d " % oid, listing)
        self.assertRegex(listing, r"id=%d [^\n]*name=victim" % oid)
        self.expect(["CLIENT", "KILL", "ID", str(oid)], "(integer) 1")
        self.assertTrue(other.is_closed(timeout=5))
        self.expect(["CLIENT", "KILL", "ID", str(oid)], "(integer) 0")
        self.assertNotIn("id=%d " % oid, self.cli("CLIENT", "LIST", raw=True))

    # -- server
    def test_dbsize_flush(self):
        self.expect_all([
            (["DBSIZE"], "(integer) 0"),
            (["MSET", "a", "1", "k", "2", "x", "3"], "OK"),
            (["DBSIZE"], "(integer) 3"),
            (["FLUSHDB", "BOGUS"], SYNTAX),
            (["FLUSHDB"], "OK"),
            (["DBSIZE"], "(integer) 0"),
            (["SET", "a", "1"], "OK"),
            (["FLUSHDB", "ASYNC"], "OK"),
            (["DBSIZE"], "(integer) 0"),
            (["SET", "a", "1"], "OK"),
            (["FLUSHDB", "sync"], "OK"),
            (["EXISTS", "a"], "(integer) 0"),
        ])
        self.expect(["SET", "d5", "v"], "OK", db=5)
        self.expect(["SET", "a", "v"], "OK")
        self.expect_all([
            (["FLUSHALL", "BOGUS"], SYNTAX),
            (["FLUSHALL", "ASYNC", "SYNC"], SYNTAX),
            (["DBSIZE"], "(integer) 1"),
            (["FLUSHALL"], "OK"),
            (["DBSIZE"], "(integer) 0"),
        ])
        self.expect(["DBSIZE"], "(integer) 0", db=5)
        self.expect(["SET", "d5", "v"], "OK", db=5)
        self.expect(["FLUSHALL", "ASYNC"], "OK")
        self.expect(["DBSIZE"], "(integer) 0", db=5)
        self.expect(["SET", "d5", "v"], "OK", db=5)
        self.expect(["FLUSHALL", "SYNC"], "OK")
        self.expect(["DBSIZE"], "(integer) 0", db=5)
        # FLUSHDB only touches the selected database.
        self.expect(["SET", "d5", "v"], "OK", db=5)
        self.expect(["SET", "d0", "v"], "OK")
        self.expect(["FLUSHDB"], "OK", db=5)
        self.expect(["DBSIZE"], "(integer) 1")
        self.expect(["DBSIZE"], "(integer) 0", db=5)

    def test_time(self):
        for resp3 in (False, True):
            out = self.cli("TIME", resp3=resp3).split("\n")
            self.assertEqual(len(out), 2, out)
            m1 = re.match(r'1\) "(\d+)"\Z', out[0])
            m2 = re.match(r'2\) "(\d+)"\Z', out[1])
            self.assertTrue(m1 and m2, out)
            t = int(m1.group(1)) + int(m2.group(1)) / 1e6
            self.assertLess(int(m2.group(1)), 1000000)
            self.assertAlmostEqual(t, time.time(), delta=2.0)
        self.expect(["TIME", "x"], ARITY % "time")

    def test_info(self):
        self.expect(["SET", "a", "1"], "OK")
        self.expect(["SET", "k", "2", "EX", "100"], "OK")
        self.expect(["SET", "x", "1"], "OK", db=2)
        # (redis-cli --raw prints INFO's CRLFs as plain newlines)
        info = self.cli("INFO", raw=True).replace("\r\n", "\n") + "\n"
        self.assertIn("# Server\n", info)
        self.assertRegex(info, r"\nredis_version:\d+\.\d+\.\d+\n")
        self.assertRegex(info, r"\ntcp_port:%d\n" % self.server.port)
        self.assertIn("# Clients\n", info)
        self.assertRegex(info, r"\nconnected_clients:\d+\n")
        self.assertIn("# Memory\n", info)
        self.assertRegex(info, r"\nused_memory:\d+\n")
        self.assertIn("# Keyspace\n", info)
        self.assertRegex(info, r"\ndb0:keys=2,expires=1,avg_ttl=\d+\n")
        self.assertRegex(info, r"\ndb2:keys=1,expires=0,avg_ttl=0\n")
        ks = self.cli("INFO", "keyspace", raw=True).replace("\r\n", "\n")
        self.assertTrue(ks.startswith("# Keyspace\n"), ks)
        self.assertNotIn("# Server", ks)
        self.assertIn("db0:keys=2,expires=1,", ks)
        srv = self.cli("INFO", "SERVER", raw=True).replace("\r\n", "\n")
        self.assertIn("# Server\n", srv)
        self.assertNotIn("# Keyspace", srv)
        self.assertRegex(srv, r"\nprocess_id:\d+\n")
        self.assertRegex(srv, r"\nuptime_in_seconds:\d+\n")
        stats = self.cli("INFO", "stats", raw=True).replace("\r\n", "\n")
        self.assertRegex(stats, r"\ntotal_commands_processed:\d+\n")
        self.assertRegex(stats, r"\nexpired_keys:\d+\n")
        self.assertEqual(self.cli("INFO", "nosuchsection", raw=True), "")

    def test_command(self):
        n = self.integer(["COMMAND", "COUNT"])
        # at least the commands of this phase
        self.assertGreaterEqual(n, 70)
        out = self.cli("COMMAND", "INFO", "get").split("\n")
        self.assertEqual(out[0], '1)  1) "get"')
        self.assertEqual(out[1].strip(), "2) (integer) 2")
        self.assertEqual(out[2].strip(), "3) 1) readonly")
        self.assertEqual(out[3].strip(), "2) fast")
        self.assertEqual([l.strip() for l in out[4:7]],
                         ["4) (integer) 1", "5) (integer) 1",
                          "6) (integer) 1"])
        self.assertIn("@string", self.cli("COMMAND", "INFO", "get"))
        out = self.cli("COMMAND", "INFO", "mset", "nosuchcmd").split("\n")
        self.assertEqual(out[0], '1)  1) "mset"')
        self.assertEqual(out[1].strip(), "2) (integer) -3")
        self.assertIn("2) (nil)", out)
        docs = self.cli("COMMAND", "DOCS", "set")
        self.assertTrue(docs.startswith('1) "set"\n'), docs)
        self.assertIn('"summary"', docs)
        self.assertRegex(docs, r'"since"\n +\d+\) "1\.0\.0"')
        self.assertRegex(docs, r'"group"\n +\d+\) "string"')
        docs3 = self.cli("COMMAND", "DOCS", "set", resp3=True)
        self.assertTrue(docs3.startswith('1# "set" => \n   1# "summary" => '),
                        docs3)
        self.expect(["COMMAND", "DOCS", "nosuchcmd"], "(empty array)")
        self.expect(["COMMAND", "COUNT", "x"], ARITY % "command|count")
        self.expect(["COMMAND", "BOGUS"],
                    "(error) ERR unknown subcommand 'BOGUS'. Try COMMAND "
                    "HELP.")

    def test_config(self):
        cases = [
            (["CONFIG", "GET", "maxclients"], '1) "maxclients"\n2) "10000"',
             '1# "maxclients" => "10000"'),
            (["CONFIG", "SET", "maxclients", "5000"], "OK"),
            (["CONFIG", "GET", "maxclients"], '1) "maxclients"\n2) "5000"',
             '1# "maxclients" => "5000"'),
            (["CONFIG", "SET", "maxclients", "10000"], "OK"),
            (["CONFIG", "GET", "timeout"], '1) "timeout"\n2) "0"',
             '1# "timeout" => "0"'),
            (["CONFIG", "GET", "nosuchoption"], "(empty array)",
             "(empty hash)"),
            (["CONFIG", "SET", "nosuchoption", "1"],
             "(error) ERR Unknown option or number of arguments for CONFIG "
             "SET - 'nosuchoption'"),
            (["CONFIG", "SET", "maxclients", "abc"],
             "(error) ERR CONFIG SET failed (possibly related to argument "
             "'maxclients') - argument couldn't be parsed into an integer"),
            (["CONFIG", "SET", "maxclients"], ARITY % "config|set"),
            (["CONFIG", "GET"], ARITY % "config|get"),
            (["CONFIG"], ARITY % "config"),
            (["CONFIG", "BOGUS"],
             "(error) ERR unknown subcommand 'BOGUS'. Try CONFIG HELP."),
        ]
        self.expect_all(cases)
        self.expect_all(cases, resp3=True)
        # a glob returns every match, name then value
        out = self.cli("CONFIG", "GET", "maxmemory*").split("\n")
        names = [l.split(") ", 1)[1] for l in out[0::2]]
        self.assertIn('"maxmemory"', names)
        self.assertIn('"maxmemory-policy"', names)
        # several names in one call (Redis 7)
        out = self.cli("CONFIG", "GET", "timeout", "maxclients",
                       resp3=True).split("\n")
        self.assertEqual(sorted(out), ['1# "timeout" => "0"',
                                       '2# "maxclients" => "10000"'] if
                         out[0].startswith('1# "timeout"') else
                         ['1# "maxclients" => "10000"',
                          '2# "timeout" => "0"'])

    def test_function_flush_and_debug(self):
        self.expect_all([
            (["FUNCTION", "FLUSH"], "OK"),
            (["FUNCTION", "FLUSH", "SYNC"], "OK"),
            (["FUNCTION", "FLUSH", "ASYNC"], "OK"),
            (["DEBUG", "SLEEP", "0"], "OK"),
            (["DEBUG", "LOG", "hello from the e2e tests"], "OK"),
        ])

    # -- strings
    def test_get_set(self):
        def run(resp3):
            self.expect_all([
                (["GET", "a"], "(nil)"),
                (["SET", "a", "hello"], "OK"),
                (["GET", "a"], '"hello"'),
                (["SET", "k", "with space"], "OK"),
                (["GET", "k"], '"with space"'),
                (["SET", "a", "v2", "NX"], "(nil)"),
                (["SET", "b", "v", "XX"], "(nil)"),
                (["EXISTS", "b"], "(integer) 0"),
                (["SET", "a", "v3", "XX"], "OK"),
                (["SET", "b", "vb", "NX"], "OK"),
                (["SET", "a", "v4", "GET"], '"v3"'),
                (["SET", "new", "v", "GET"], "(nil)"),
                (["GET", "new"], '"v"'),
                (["SET", "a", "v5", "NX", "GET"], '"v4"'),
                (["GET", "a"], '"v4"'),
                (["SET", "a", "v5", "XX", "GET"], '"v4"'),
                (["SET", "nx2", "v", "XX", "GET"], "(nil)"),
                (["EXISTS", "nx2"], "(integer) 0"),
                (["SET", "a"], ARITY % "set"),
                (["GET"], ARITY % "get"),
                (["GET", "a", "b"], ARITY % "get"),
                (["SET", "a", "v", "NX", "XX"], SYNTAX),
                (["SET", "a", "v", "BOGUS"], SYNTAX),
                (["SET", "a", "v", "EX"], SYNTAX),
                (["SET", "a", "v", "EX", "10", "PX", "100"], SYNTAX),
                (["SET", "a", "v", "EX", "10", "KEEPTTL"], SYNTAX),
                (["SET", "a", "v", "EX", "abc"], NOTINT),
                (["SET", "a", "v", "EX", "0"],
                 "(error) ERR invalid expire time in 'set' command"),
                (["SET", "a", "v", "PX", "-5"],
                 "(error) ERR invalid expire time in 'set' command"),
                (["SET", "a", "v", "EXAT", "0"],
                 "(error) ERR invalid expire time in 'set' command"),
                (["GET", "a"], '"v5"'),
                (["SET", "", "empty-key"], "OK"),
                (["GET", ""], '"empty-key"'),
                (["SET", "ek", ""], "OK"),
                (["GET", "ek"], '""'),
                (["SET", "bin", "a\x01b"], "OK"),
                (["GET", "bin"], '"a\\x01b"'),
            ], resp3)
        self.both(run)

    def test_set_expiry_options(self):
        now = int(time.time())
        self.expect_all([
            (["SET", "a", "v", "EX", "100"], "OK"),
            (["TTL", "a"], "(integer) 100"),
            (["SET", "a", "v2", "KEEPTTL"], "OK"),
            (["TTL", "a"], "(integer) 100"),
            (["GET", "a"], '"v2"'),
            (["SET", "a", "v3"], "OK"),
            (["TTL", "a"], "(integer) -1"),
            (["SET", "k", "v", "PX", "100000"], "OK"),
            (["TTL", "k"], "(integer) 100"),
            (["SET", "k", "v", "EXAT", str(now + 200)], "OK"),
            (["SET", "x", "v", "PXAT", str((now + 300) * 1000)], "OK"),
            (["SET", "past", "v", "PXAT", str((now - 10) * 1000)], "OK"),
            (["GET", "past"], "(nil)"),
            (["EXISTS", "past"], "(integer) 0"),
            (["SET", "short", "v", "PX", "100"], "OK"),
        ])
        self.assertIn(self.integer(["TTL", "k"]), (199, 200))
        self.assertTrue(198000 < self.integer(["PTTL", "k"]) <= 200000)
        self.assertEqual(self.integer(["EXPIRETIME", "k"]), now + 200)
        self.assertIn(self.integer(["TTL", "x"]), (299, 300))
        self.assertEqual(self.integer(["PEXPIRETIME", "x"]),
                         (now + 300) * 1000)
        time.sleep(0.25)
        self.expect(["GET", "short"], "(nil)")
        self.expect(["EXISTS", "short"], "(integer) 0")

    def test_setnx_setex_psetex(self):
        self.expect_all([
            (["SETNX", "a", "1"], "(integer) 1"),
            (["SETNX", "a", "2"], "(integer) 0"),
            (["GET", "a"], '"1"'),
            (["SETNX", "a"], ARITY % "setnx"),
            (["SETEX", "k", "100", "v"], "OK"),
            (["GET", "k"], '"v"'),
            (["TTL", "k"], "(integer) 100"),
            (["SETEX", "k", "0", "v"],
             "(error) ERR invalid expire time in 'setex' command"),
            (["SETEX", "k", "-10", "v"],
             "(error) ERR invalid expire time in 'setex' command"),
            (["SETEX", "k", "abc", "v"], NOTINT),
            (["SETEX", "k", "10"], ARITY % "setex"),
            (["PSETEX", "x", "100000", "pv"], "OK"),
            (["GET", "x"], '"pv"'),
            (["TTL", "x"], "(integer) 100"),
            (["PSETEX", "x", "0", "v"],
             "(error) ERR invalid expire time in 'psetex' command"),
            (["PSETEX", "x", "1.5", "v"], NOTINT),
            (["PSETEX", "x"], ARITY % "psetex"),
            (["GET", "x"], '"pv"'),
        ])

    def test_getset_getdel_getex(self):
        self.expect_all([
            (["GETSET", "a", "1"], "(nil)"),
            (["GETSET", "a", "2"], '"1"'),
            (["GET", "a"], '"2"'),
            (["SET", "k", "v", "EX", "100"], "OK"),
            (["GETSET", "k", "w"], '"v"'),
            (["TTL", "k"], "(integer) -1"),
            (["GETSET", "a"], ARITY % "getset"),
            (["GETDEL", "a"], '"2"'),
            (["GETDEL", "a"], "(nil)"),
            (["EXISTS", "a"], "(integer) 0"),
            (["GETDEL"], ARITY % "getdel"),
            (["GETEX", "nokey"], "(nil)"),
            (["SET", "x", "xv"], "OK"),
            (["GETEX", "x"], '"xv"'),
            (["TTL", "x"], "(integer) -1"),
            (["GETEX", "x", "EX", "100"], '"xv"'),
            (["TTL", "x"], "(integer) 100"),
            (["GETEX", "x", "PERSIST"], '"xv"'),
            (["TTL", "x"], "(integer) -1"),
            (["GETEX", "x", "PX", "200000"], '"xv"'),
            (["TTL", "x"], "(integer) 200"),
            (["GETEX", "x", "EXAT", str(int(time.time()) + 300)], '"xv"'),
            (["GETEX", "x", "PXAT", str(int(time.time() + 400) * 1000)],
             '"xv"'),
            (["GETEX", "x", "BOGUS"], SYNTAX),
            (["GETEX", "x", "EX"], SYNTAX),
            (["GETEX", "x", "EX", "10", "PX", "10000"], SYNTAX),
            (["GETEX", "x", "EX", "10", "PERSIST"], SYNTAX),
            (["GETEX", "x", "EX", "abc"], NOTINT),
            (["GETEX", "x", "EX", "0"],
             "(error) ERR invalid expire time in 'getex' command"),
            (["GETEX", "x", "PX", "-1"],
             "(error) ERR invalid expire time in 'getex' command"),
            (["GETEX"], ARITY % "getex"),
            (["GET", "x"], '"xv"'),
        ])
        self.assertIn(self.integer(["TTL", "x"]), (399, 400))
        # GETEX with a time in the past deletes the key
        self.expect(["GETEX", "x", "PXAT", "1"], '"xv"')
        self.expect(["EXISTS", "x"], "(integer) 0")

    def test_mget_mset_msetnx(self):
        keys = ["a", "k", "{t}1", "{t}2", "x", "zz"]
        def run(resp3):
            self.expect_all([
                (["MSET"] + [w for k in keys for w in (k, "v" + k)], "OK"),
                (["MGET"] + keys + ["missing"],
                 "\n".join('%d) "v%s"' % (i + 1, k)
                           for i, k in enumerate(keys)) + "\n7) (nil)"),
                (["MGET", "a"], '1) "va"'),
                (["MSET", "a", "1", "k"], ARITY % "mset"),
                (["MSET", "a"], ARITY % "mset"),
                (["MGET"], ARITY % "mget"),
                (["MSETNX", "a", "2", "new", "3"], "(integer) 0"),
                (["EXISTS", "new"], "(integer) 0"),
                (["GET", "a"], '"va"'),
                (["MSETNX", "n1", "1", "n2", "2", "{t}n3", "3"],
                 "(integer) 1"),
                (["MGET", "n1", "n2", "{t}n3"], '1) "1"\n2) "2"\n3) "3"'),
                (["MSETNX", "n1"], ARITY % "msetnx"),
                (["MSETNX", "n1", "1", "n9"], ARITY % "msetnx"),
                # the last of repeated keys wins
                (["MSET", "a", "1", "a", "2"], "OK"),
                (["GET", "a"], '"2"'),
            ], resp3)
        self.both(run)

    def test_append_strlen_ranges(self):
        self.expect_all([
            (["APPEND", "a", "Hello"], "(integer) 5"),
            (["APPEND", "a", " World"], "(integer) 11"),
            (["GET", "a"], '"Hello World"'),
            (["APPEND", "a"], ARITY % "append"),
            (["STRLEN", "a"], "(integer) 11"),
            (["STRLEN", "missing"], "(integer) 0"),
            (["STRLEN"], ARITY % "strlen"),
            (["GETRANGE", "a", "0", "4"], '"Hello"'),
            (["GETRANGE", "a", "-5", "-1"], '"World"'),
            (["GETRANGE", "a", "0", "-1"], '"Hello World"'),
            (["GETRANGE", "a", "0", "1000"], '"Hello World"'),
            (["GETRANGE", "a", "5", "1"], '""'),
            (["GETRANGE", "a", "-100", "2"], '"Hel"'),
            (["GETRANGE", "missing", "0", "10"], '""'),
            (["GETRANGE", "a", "x", "1"], NOTINT),
            (["GETRANGE", "a", "0"], ARITY % "getrange"),
            (["SUBSTR", "a", "6", "10"], '"World"'),
            (["SETRANGE", "a", "6", "Redis"], "(integer) 11"),
            (["GET", "a"], '"Hello Redis"'),
            (["SETRANGE", "k", "3", "xy"], "(integer) 5"),
            (["GET", "k"], '"\\x00\\x00\\x00xy"'),
            (["SETRANGE", "a", "-1", "x"],
             "(error) ERR offset is out of range"),
            (["SETRANGE", "a", "abc", "x"], NOTINT),
            (["SETRANGE", "none", "0", ""], "(integer) 0"),
            (["EXISTS", "none"], "(integer) 0"),
            (["SETRANGE", "none", "100", ""], "(integer) 0"),
            (["SETRANGE", "a", "0", ""], "(integer) 11"),
            (["SETRANGE", "a", "536870912", "x"],
             "(error) ERR string exceeds maximum allowed size "
             "(proto-max-bulk-len)"),
            (["SETRANGE", "a", "1"], ARITY % "setrange"),
            (["APPEND", "k", ""], "(integer) 5"),
        ])

    def test_incr_decr(self):
        self.expect_all([
            (["INCR", "a"], "(integer) 1"),
            (["INCR", "a"], "(integer) 2"),
            (["DECR", "a"], "(integer) 1"),
            (["DECR", "k"], "(integer) -1"),
            (["INCRBY", "a", "10"], "(integer) 11"),
            (["INCRBY", "a", "-20"], "(integer) -9"),
            (["DECRBY", "a", "1"], "(integer) -10"),
            (["DECRBY", "a", "-15"], "(integer) 5"),
            (["GET", "a"], '"5"'),
            (["SET", "s", "abc"], "OK"),
            (["INCR", "s"], NOTINT),
            (["DECR", "s"], NOTINT),
            (["INCRBY", "s", "1"], NOTINT),
            (["SET", "s", " 1"], "OK"),
            (["INCR", "s"], NOTINT),
            (["SET", "s", "1.5"], "OK"),
            (["INCR", "s"], NOTINT),
            (["SET", "s", "007"], "OK"),
            (["INCR", "s"], NOTINT),
            (["INCRBY", "a", "abc"], NOTINT),
            (["INCRBY", "a", "1.0"], NOTINT),
            (["DECRBY", "a", ""], NOTINT),
            (["GET", "a"], '"5"'),
            (["SET", "m", MAXI], "OK"),
            (["INCR", "m"], "(error) ERR increment or decrement would "
             "overflow"),
            (["INCRBY", "m", "0"], "(integer) %s" % MAXI),
            (["SET", "m", MINI], "OK"),
            (["DECR", "m"], "(error) ERR increment or decrement would "
             "overflow"),
            (["INCRBY", "m", MAXI], "(integer) -1"),
            (["DECRBY", "m", MINI], "(error) ERR decrement would overflow"),
            (["INCRBY", "m", "9223372036854775808"], NOTINT),
            (["INCR"], ARITY % "incr"),
            (["INCR", "a", "b"], ARITY % "incr"),
            (["INCRBY", "a"], ARITY % "incrby"),
            (["DECRBY", "a"], ARITY % "decrby"),
            (["DECR"], ARITY % "decr"),
            # the counter keeps its expiry
            (["SET", "t", "1", "EX", "100"], "OK"),
            (["INCR", "t"], "(integer) 2"),
            (["TTL", "t"], "(integer) 100"),
        ])

    def test_incrbyfloat(self):
        def run(resp3):
            self.expect_all([
                (["INCRBYFLOAT", "f", "1.5"], '"1.5"'),
                (["INCRBYFLOAT", "f", "10.5"], '"12"'),
                (["INCRBYFLOAT", "f", "-0.25"], '"11.75"'),
                (["INCRBYFLOAT", "f", "5.0e3"], '"5011.75"'),
                (["GET", "f"], '"5011.75"'),
                (["SET", "i", "3"], "OK"),
                (["INCRBYFLOAT", "i", "0.1"], '"3.1"'),
                (["INCRBYFLOAT", "f", "abc"], NOTFLOAT),
                (["SET", "s", "abc"], "OK"),
                (["INCRBYFLOAT", "s", "1"], NOTFLOAT),
                (["INCRBYFLOAT", "f", "inf"],
                 "(error) ERR increment would produce NaN or Infinity"),
                (["INCRBYFLOAT", "f"], ARITY % "incrbyfloat"),
                (["SET", "t", "1", "PX", "100000"], "OK"),
                (["INCRBYFLOAT", "t", "1"], '"2"'),
                (["TTL", "t"], "(integer) 100"),
            ], resp3)
        self.both(run)

    # -- keys
    def test_del_unlink_exists_touch_type(self):
        self.expect_all([
            (["MSET", "a", "1", "k", "2", "x", "3", "{t}a", "4"], "OK"),
            (["EXISTS", "a"], "(integer) 1"),
            (["EXISTS", "a", "a", "k", "missing"], "(integer) 3"),
            (["TOUCH", "a", "k", "missing"], "(integer) 2"),
            (["TYPE", "a"], "string"),
            (["TYPE", "missing"], "none"),
            (["DEL", "a", "k", "missing"], "(integer) 2"),
            (["DEL", "a"], "(integer) 0"),
            (["EXISTS", "a", "k"], "(integer) 0"),
            (["UNLINK", "x", "{t}a", "missing"], "(integer) 2"),
            (["DBSIZE"], "(integer) 0"),
            (["DEL"], ARITY % "del"),
            (["UNLINK"], ARITY % "unlink"),
            (["EXISTS"], ARITY % "exists"),
            (["TOUCH"], ARITY % "touch"),
            (["TYPE"], ARITY % "type"),
            (["TYPE", "a", "b"], ARITY % "type"),
        ])

    def test_expire_family(self):
        now = int(time.time())
        self.expect_all([
            (["SET", "a", "v"], "OK"),
            (["TTL", "a"], "(integer) -1"),
            (["PTTL", "a"], "(integer) -1"),
            (["EXPIRETIME", "a"], "(integer) -1"),
            (["PEXPIRETIME", "a"], "(integer) -1"),
            (["TTL", "missing"], "(integer) -2"),
            (["PTTL", "missing"], "(integer) -2"),
            (["EXPIRETIME", "missing"], "(integer) -2"),
            (["PEXPIRETIME", "missing"], "(integer) -2"),
            (["EXPIRE", "missing", "100"], "(integer) 0"),
            (["EXPIRE", "a", "100", "XX"], "(integer) 0"),
            (["EXPIRE", "a", "100", "GT"], "(integer) 0"),
            (["TTL", "a"], "(integer) -1"),
            (["EXPIRE", "a", "100", "LT"], "(integer) 1"),
            (["TTL", "a"], "(integer) 100"),
            (["PERSIST", "a"], "(integer) 1"),
            (["PERSIST", "a"], "(integer) 0"),
            (["PERSIST", "missing"], "(integer) 0"),
            (["EXPIRE", "a", "100", "NX"], "(integer) 1"),
            (["EXPIRE", "a", "200", "NX"], "(integer) 0"),
            (["EXPIRE", "a", "200", "XX"], "(integer) 1"),
            (["TTL", "a"], "(integer) 200"),
            (["EXPIRE", "a", "150", "GT"], "(integer) 0"),
            (["EXPIRE", "a", "300", "gt"], "(integer) 1"),
            (["EXPIRE", "a", "400", "LT"], "(integer) 0"),
            (["EXPIRE", "a", "250", "lt"], "(integer) 1"),
            (["TTL", "a"], "(integer) 250"),
            (["EXPIRE", "a", "100", "NX", "XX"],
             "(error) ERR NX and XX, GT or LT options at the same time are "
             "not compatible"),
            (["EXPIRE", "a", "100", "GT", "LT"],
             "(error) ERR GT and LT options at the same time are not "
             "compatible"),
            (["EXPIRE", "a", "100", "BOGUS"],
             "(error) ERR Unsupported option BOGUS"),
            (["EXPIRE", "a", "abc"], NOTINT),
            (["EXPIRE", "a"], ARITY % "expire"),
            (["TTL", "a"], "(integer) 250"),
            (["PEXPIRE", "a", "300000"], "(integer) 1"),
            (["TTL", "a"], "(integer) 300"),
            (["PEXPIRE", "a", "100", "GT"], "(integer) 0"),
            (["EXPIREAT", "a", str(now + 500)], "(integer) 1"),
            (["EXPIRETIME", "a"], "(integer) %d" % (now + 500)),
            (["PEXPIRETIME", "a"], "(integer) %d" % ((now + 500) * 1000)),
            (["PEXPIREAT", "a", str((now + 600) * 1000)], "(integer) 1"),
            (["EXPIRETIME", "a"], "(integer) %d" % (now + 600)),
            (["EXPIREAT", "a", str(now + 700), "LT"], "(integer) 0"),
            (["PEXPIREAT", "a", "abc"], NOTINT),
            (["PEXPIREAT", "missing", str((now + 600) * 1000)],
             "(integer) 0"),
            (["TTL"], ARITY % "ttl"),
            (["PTTL", "a", "b"], ARITY % "pttl"),
            (["PERSIST"], ARITY % "persist"),
            (["EXPIRETIME"], ARITY % "expiretime"),
            # a time in the past deletes the key at once
            (["SET", "k", "v"], "OK"),
            (["EXPIRE", "k", "-1"], "(integer) 1"),
            (["EXISTS", "k"], "(integer) 0"),
            (["SET", "k", "v"], "OK"),
            (["PEXPIREAT", "k", "1"], "(integer) 1"),
            (["GET", "k"], "(nil)"),
            (["SET", "k", "v"], "OK"),
            (["EXPIREAT", "k", str(now - 10)], "(integer) 1"),
            (["TTL", "k"], "(integer) -2"),
            (["SET", "k", "v"], "OK"),
            (["PEXPIRE", "k", "0"], "(integer) 1"),
            (["DBSIZE"], "(integer) 1"),
        ])
        pttl = self.integer(["PTTL", "a"])
        self.assertTrue(590000 < pttl <= 600000 + 1000, pttl)
        # expiry by time passing
        self.expect(["SET", "short", "v", "PX", "150"], "OK")
        self.expect(["PEXPIRE", "x", "150"], "(integer) 0")
        time.sleep(0.3)
        self.expect(["GET", "short"], "(nil)")
        self.expect(["TTL", "short"], "(integer) -2")

    def test_keys_scan_randomkey(self):
        names = ["a", "k", "x", "user:1", "user:2", "user:10", "{t}x",
                 "h?llo", "hello", "hallo"]
        self.expect(["MSET"] + [w for n in names for w in (n, "v")], "OK")
        got = self.cli("KEYS", "*", raw=True).split("\n")
        self.assertEqual(sorted(got), sorted(names))
        self.assertEqual(sorted(self.cli("KEYS", "user:*",
                                         raw=True).split("\n")),
                         ["user:1", "user:10", "user:2"])
        self.assertEqual(sorted(self.cli("KEYS", "h[ae]llo",
                                         raw=True).split("\n")),
                         ["hallo", "hello"])
        self.assertEqual(sorted(self.cli("KEYS", "h\\?llo",
                                         raw=True).split("\n")), ["h?llo"])
        self.assertEqual(sorted(self.cli("KEYS", "h?llo",
                                         raw=True).split("\n")),
                         ["h?llo", "hallo", "hello"])
        self.expect(["KEYS", "nomatch*"], "(empty array)")
        self.expect(["KEYS"], ARITY % "keys")
        # SCAN: a full iteration returns every key (at least once)
        seen = []
        cursor = "0"
        for _ in range(1000):
            out = self.cli("SCAN", cursor, "COUNT", "3", raw=True).split("\n")
            cursor = out[0]
            seen += [k for k in out[1:] if k]
            if cursor == "0":
                break
        self.assertEqual(cursor, "0")
        self.assertEqual(sorted(set(seen)), sorted(names))
        # MATCH and TYPE filter
        seen = []
        cursor = "0"
        for _ in range(1000):
            out = self.cli("SCAN", cursor, "MATCH", "user:*", "COUNT", "100",
                           "TYPE", "string", raw=True).split("\n")
            cursor = out[0]
            seen += [k for k in out[1:] if k]
            if cursor == "0":
                break
        self.assertEqual(sorted(set(seen)), ["user:1", "user:10", "user:2"])
        out = self.cli("SCAN", "0", "TYPE", "list", "COUNT", "1000")
        self.assertTrue(out.endswith("2) (empty array)"), out)
        self.expect_all([
            (["SCAN", "abc"], "(error) ERR invalid cursor"),
            (["SCAN", "0", "COUNT", "0"], SYNTAX),
            (["SCAN", "0", "COUNT", "abc"], NOTINT),
            (["SCAN", "0", "BOGUS", "1"], SYNTAX),
            (["SCAN", "0", "MATCH"], SYNTAX),
            (["SCAN"], ARITY % "scan"),
        ])
        for _ in range(5):
            out = self.cli("RANDOMKEY")
            self.assertTrue(out.startswith('"') and out[1:-1] in names, out)
        self.expect(["RANDOMKEY", "x"], ARITY % "randomkey")
        self.expect(["FLUSHDB"], "OK")
        self.expect(["RANDOMKEY"], "(nil)")
        self.expect(["SCAN", "0"], '1) "0"\n2) (empty array)')

    def test_rename(self):
        self.expect_all([
            (["SET", "a", "va", "EX", "100"], "OK"),
            (["RENAME", "a", "k"], "OK"),
            (["EXISTS", "a"], "(integer) 0"),
            (["GET", "k"], '"va"'),
            (["TTL", "k"], "(integer) 100"),
            (["RENAME", "missing", "b"], "(error) ERR no such key"),
            (["RENAMENX", "missing", "b"], "(error) ERR no such key"),
            (["SET", "x", "vx"], "OK"),
            (["RENAMENX", "k", "x"], "(integer) 0"),
            (["GET", "x"], '"vx"'),
            (["RENAMENX", "k", "a"], "(integer) 1"),
            (["GET", "a"], '"va"'),
            (["EXISTS", "k"], "(integer) 0"),
            (["RENAME", "a", "a"], "OK"),
            (["GET", "a"], '"va"'),
            (["RENAMENX", "a", "a"], "(integer) 0"),
            # overwrite drops the destination's old value and expiry
            (["SET", "y", "vy", "EX", "500"], "OK"),
            (["SET", "z", "vz"], "OK"),
            (["RENAME", "z", "y"], "OK"),
            (["GET", "y"], '"vz"'),
            (["TTL", "y"], "(integer) -1"),
            (["RENAME", "{t}1", "{t}2"], "(error) ERR no such key"),
            (["SET", "{t}1", "t"], "OK"),
            (["RENAME", "{t}1", "{t}2"], "OK"),
            (["GET", "{t}2"], '"t"'),
            (["RENAME", "a"], ARITY % "rename"),
            (["RENAMENX", "a"], ARITY % "renamenx"),
            (["DBSIZE"], "(integer) 4"),
        ])

    def test_wrongtype(self):
        # a key of another type, made by the first collection command the
        # server has
        made = None
        for args, typ in ((("LPUSH", "list", "x"), "list"),
                          (("HSET", "list", "f", "x"), "hash"),
                          (("SADD", "list", "x"), "set"),
                          (("ZADD", "list", "1", "x"), "zset")):
            r = self.r.call(*args)
            if r == 1:
                made = typ
                break
            self.assertIsInstance(r, h.Error)
            self.assertRegex(r.text, "unknown command|not implemented")
        if made is None:
            self.skipTest("no command makes a non-string key yet")
        self.expect_all([
            (["GET", "list"], WRONGTYPE),
            (["INCR", "list"], WRONGTYPE),
            (["APPEND", "list", "x"], WRONGTYPE),
            (["GETRANGE", "list", "0", "1"], WRONGTYPE),
            (["SETRANGE", "list", "0", "x"], WRONGTYPE),
            (["STRLEN", "list"], WRONGTYPE),
            (["INCRBYFLOAT", "list", "1"], WRONGTYPE),
            (["GETSET", "list", "x"], WRONGTYPE),
            (["GETDEL", "list"], WRONGTYPE),
            (["GETEX", "list"], WRONGTYPE),
            (["SET", "list", "x", "GET"], WRONGTYPE),
            (["MGET", "list"], "1) (nil)"),
            (["TYPE", "list"], made),
            (["SET", "list", "s"], "OK"),
            (["TYPE", "list"], "string"),
        ])

    def test_unknown_command(self):
        self.expect(["NOSUCHCMD", "a", "b"],
                    "(error) ERR unknown command 'NOSUCHCMD', with args "
                    "beginning with: 'a' 'b' ")


class CliOneWorker(CliMixin, h.ServerTestCase):
    server_workers = 1


class CliTwoWorkers(CliMixin, h.ServerTestCase):
    server_workers = 2


if __name__ == "__main__":
    unittest.main()
