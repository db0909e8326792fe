"""The wire protocol, byte for byte: inline commands, RESP3 after HELLO 3
(maps, sets, doubles, nulls, booleans, big numbers, verbatim strings),
HELLO errors, protocol errors (Redis's exact text, then the connection is
closed, after the replies to the commands before the error),
proto-max-bulk-len, QUIT.  Against 2 workers, so that some commands run
on the other shard and their replies travel back encoded for RESP3.
"""

import os
import sys
import socket
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import Simple  # noqa: E402

PERR = b"-ERR Protocol error: "


class ProtocolTest(h.ServerTestCase):
    server_workers = 2

    def raw(self, data, nreplies, resp=2):
        """Send bytes, return the exact bytes of the next nreplies."""
        c = self.client(resp=resp)
        c.send_raw(data)
        return b"".join(c.read_node().raw for _ in range(nreplies)), c

    def closes_with(self, data, expected, resp=2):
        c = self.client(resp=resp)
        c.send_raw(data)
        got = c.read_raw_until_closed(timeout=5)
        self.assertEqual(got, expected, "after sending %r" % data[:60])

    # -- inline
    def test_inline_commands(self):
        out, c = self.raw(b"PING\r\n", 1)
        self.assertEqual(out, b"+PONG\r\n")
        cases = [
            (b"PING\n", b"+PONG\r\n"),                       # LF alone
            (b"   PING   \r\n", b"+PONG\r\n"),
            (b"\r\n\r\nPING\r\n", b"+PONG\r\n"),             # empty lines
            (b"ping hello\r\n", b"$5\r\nhello\r\n"),
            (b"SET ik value\r\n", b"+OK\r\n"),
            (b"GET ik\r\n", b"$5\r\nvalue\r\n"),
            (b'SET ik "hello world"\r\n', b"+OK\r\n"),
            (b"GET ik\r\n", b"$11\r\nhello world\r\n"),
            (b"SET ik 'single quoted'\r\n", b"+OK\r\n"),
            (b"GET ik\r\n", b"$13\r\nsingle quoted\r\n"),
            (b'SET ik "a\\x41b\\n"\r\n', b"+OK\r\n"),
            (b"GET ik\r\n", b"$4\r\naAb\n\r\n"),
            (b'SET ik ""\r\n', b"+OK\r\n"),
            (b"STRLEN ik\r\n", b":0\r\n"),
            (b"ECHO\r\n",
             b"-ERR wrong number of arguments for 'echo' command\r\n"),
            (b"NOSUCH a\r\n", b"-ERR unknown command 'NOSUCH', with args "
             b"beginning with: 'a' \r\n"),
            (b"MSET {t}a 1 {t}b 2\r\n", b"+OK\r\n"),
            (b"MGET {t}a {t}b nokey\r\n",
             b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"),
            (b"INCR {t}a\r\n", b":2\r\n"),
        ]
        for data, expected in cases:
            c.send_raw(data)
            self.assertEqual(c.read_node().raw, expected, data)

    def test_inline_and_multibulk_in_one_write(self):
        data = (b"SET mix 1\r\n" + h.encode_command("INCR", "mix") +
                b"INCR mix\r\n" + h.encode_command("GET", "mix") +
                b"*0\r\n" +                  # an empty multibulk: ignored
                b"GET mix\n")
        out, _ = self.raw(data, 5)
        self.assertEqual(out, b"+OK\r\n:2\r\n:3\r\n$1\r\n3\r\n$1\r\n3\r\n")

    # -- RESP3
    def test_hello_3_and_resp3_types(self):
        c = self.client()
        node = c.call_node("HELLO", "3")
        self.assertTrue(node.raw.startswith(
            b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n"),
            node.raw)
        hello = node.py()
        self.assertIsInstance(hello, h.Map)
        self.assertEqual(hello[b"proto"], 3)
        self.assertEqual(hello[b"mode"], b"standalone")
        self.assertEqual(hello[b"role"], b"master")
        self.assertEqual(hello[b"modules"], [])
        self.assertIsInstance(hello[b"id"], int)
        c.call("SET", "k", "v")
        c.call("SET", "a", "v")
        exact = [
            (("GET", "nokey"), b"_\r\n"),
            (("GET", "a"), b"$1\r\nv\r\n"),
            (("MGET", "k", "nokey", "a"),
             b"*3\r\n$1\r\nv\r\n_\r\n$1\r\nv\r\n"),
            (("CONFIG", "GET", "maxclients"),
             b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"),
            (("INCRBYFLOAT", "f", "1.5"), b"$3\r\n1.5\r\n"),
            (("EXISTS", "k", "a"), b":2\r\n"),
            (("TTL", "k"), b":-1\r\n"),
            (("SET", "k", "w", "GET"), b"$1\r\nv\r\n"),
            (("SET", "k", "w", "NX"), b"_\r\n"),
            (("GETDEL", "nokey"), b"_\r\n"),
            (("DEBUG", "PROTOCOL", "double"), b",3.141\r\n"),
            (("DEBUG", "PROTOCOL", "null"), b"_\r\n"),
            (("DEBUG", "PROTOCOL", "set"), b"~3\r\n:0\r\n:1\r\n:2\r\n"),
            (("DEBUG", "PROTOCOL", "map"),
             b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"),
            (("DEBUG", "PROTOCOL", "true"), b"#t\r\n"),
            (("DEBUG", "PROTOCOL", "false"), b"#f\r\n"),
            (("DEBUG", "PROTOCOL", "bignum"),
             b"(1234567999999999999999999999999999999\r\n"),
            (("DEBUG", "PROTOCOL", "verbatim"),
             b"=29\r\ntxt:This is a verbatim\nstring\r\n"),
            (("GET",), b"-ERR wrong number of arguments for 'get' "
             b"command\r\n"),
        ]
        for args, expected in exact:
            self.assertEqual(c.call_node(*args).raw, expected, args)
        # typed values, through the parser
        self.assertIsInstance(c.call("DEBUG", "PROTOCOL", "double"), h.Double)
        self.assertIsInstance(c.call("DEBUG", "PROTOCOL", "set"), h.Set)
        self.assertEqual(c.call("CONFIG", "GET", "maxclients"),
                         {b"maxclients": b"10000"})
        info = c.call("INFO", "keyspace")
        self.assertIsInstance(info, h.Verbatim)
        self.assertEqual(info.format, b"txt")
        self.assertTrue(info.startswith(b"# Keyspace\r\ndb0:keys="), info)
        (get,) = c.call("COMMAND", "INFO", "get")
        self.assertEqual(get[2], h.Set([Simple(b"readonly"),
                                        Simple(b"fast")]))
        self.assertIsInstance(get[6], h.Set)
        # back to RESP2: the same commands, RESP2 encodings
        node = c.call_node("HELLO", "2")
        self.assertTrue(node.raw.startswith(b"*14\r\n$6\r\nserver\r\n"))
        for args, expected in [
                (("GET", "nokey"), b"$-1\r\n"),
                (("MGET", "nokey", "a"), b"*2\r\n$-1\r\n$1\r\nv\r\n"),
                (("CONFIG", "GET", "maxclients"),
                 b"*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"),
                (("DEBUG", "PROTOCOL", "double"), b"$5\r\n3.141\r\n"),
                (("DEBUG", "PROTOCOL", "map"),
                 b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"),
                (("DEBUG", "PROTOCOL", "true"), b":1\r\n")]:
            self.assertEqual(c.call_node(*args).raw, expected, args)

    def test_resp3_pipeline_across_shards(self):
        # Replies made on the other shard must come back in RESP3 too.
        c = self.client(resp=3)
        keys = ["r3:%d" % i for i in range(200)]
        cmds = [("SET", k, k) for k in keys[::2]]
        cmds += [("GET", k) for k in keys]
        nodes = c.pipeline_nodes(cmds)
        gets = nodes[100:]
        for i, n in enumerate(gets):
            if i % 2 == 0:
                self.assertEqual(n.raw, b"$%d\r\n%s\r\n" %
                                 (len(keys[i]), keys[i].encode()))
            else:
                self.assertEqual(n.raw, b"_\r\n", keys[i])

    def test_hello_errors(self):
        c = self.client()
        for args, expected in [
                (("HELLO", "4"), b"-NOPROTO unsupported protocol version\r\n"),
                (("HELLO", "1"), b"-NOPROTO unsupported protocol version\r\n"),
                (("HELLO", "abc"), b"-ERR Protocol version is not an integer "
                 b"or out of range\r\n"),
                (("HELLO", "3", "SETNAME"),
                 b"-ERR Syntax error in HELLO option 'SETNAME'\r\n")]:
            self.assertEqual(c.call_node(*args).raw, expected, args)
        # still RESP2
        self.assertEqual(c.call_node("GET", "nokey").raw, b"$-1\r\n")
        hello = c.call("HELLO", "3", "SETNAME", "via-hello")
        self.assertEqual(hello[b"proto"], 3)
        self.assertEqual(c.call("CLIENT", "GETNAME"), b"via-hello")
        self.assertEqual(c.call_node("GET", "nokey").raw, b"_\r\n")

    # -- protocol errors
    def test_protocol_errors_close_the_connection(self):
        cases = [
            (b"*abc\r\n", PERR + b"invalid multibulk length\r\n"),
            (b"*2147483648\r\n", PERR + b"invalid multibulk length\r\n"),
            (b"*1\r\n+foo\r\n", PERR + b"expected '$', got '+'\r\n"),
            (b"*1\r\n:5\r\n", PERR + b"expected '$', got ':'\r\n"),
            (b"*1\r\n$abc\r\n", PERR + b"invalid bulk length\r\n"),
            (b"*1\r\n$-5\r\n", PERR + b"invalid bulk length\r\n"),
            (b"*2\r\n$3\r\nGET\r\n$-1\r\n", PERR + b"invalid bulk length\r\n"),
            (b"*1\r\n$536870913\r\n", PERR + b"invalid bulk length\r\n"),
            (b'SET "a\r\n', PERR + b"unbalanced quotes in request\r\n"),
            (b'SET k "a"b\r\n', PERR + b"unbalanced quotes in request\r\n"),
            (b"'x\r\n", PERR + b"unbalanced quotes in request\r\n"),
            # what came before the error is answered first
            (b"PING\r\n*abc\r\n",
             b"+PONG\r\n" + PERR + b"invalid multibulk length\r\n"),
            (h.encode_command("SET", "before", "1") + b"*1\r\n$x\r\n",
             b"+OK\r\n" + PERR + b"invalid bulk length\r\n"),
            # an inline request that never ends
            (b"x" * 70000, PERR + b"too big inline request\r\n"),
        ]
        for data, expected in cases:
            self.closes_with(data, expected)
        self.closes_with(b"*abc\r\n", PERR + b"invalid multibulk length\r\n",
                         resp=3)
        self.assertEqual(self.r.call("GET", "before"), b"1")

    def test_incomplete_requests_wait(self):
        # nothing is answered nor closed until the rest arrives
        c = self.client()
        c.send_raw(b"*2\r\n$4\r\nECHO\r\n$5\r\nhel")
        self.assertFalse(c.is_closed(timeout=0.3))
        c.send_raw(b"lo\r\n*1\r\n$4\r\nPI")
        self.assertEqual(c.read_node().raw, b"$5\r\nhello\r\n")
        c.send_raw(b"NG\r\n")
        self.assertEqual(c.read_node().raw, b"+PONG\r\n")

    def test_proto_max_bulk_len(self):
        self.addCleanup(lambda: self.server.client().call(
            "CONFIG", "SET", "proto-max-bulk-len", "512mb"))
        self.assertEqual(self.r.call("CONFIG", "GET", "proto-max-bulk-len"),
                         [b"proto-max-bulk-len", b"536870912"])
        self.assertEqual(self.r.call("CONFIG", "SET", "proto-max-bulk-len",
                                     "1mb"), Simple(b"OK"))
        self.assertEqual(self.r.call("CONFIG", "GET", "proto-max-bulk-len"),
                         [b"proto-max-bulk-len", b"1048576"])
        # exactly the limit is fine
        big = b"b" * (1 << 20)
        c = self.client()
        self.assertEqual(c.call("ECHO", big), big)
        self.assertEqual(c.call("SET", "atlimit", big), Simple(b"OK"))
        # past it: the strings commands refuse to grow it...
        self.assertEqual(c.call_node("APPEND", "atlimit", "x").raw,
                         b"-ERR string exceeds maximum allowed size "
                         b"(proto-max-bulk-len)\r\n")
        self.assertEqual(c.call_node("SETRANGE", "atlimit", 1 << 20,
                                     "x").raw,
                         b"-ERR string exceeds maximum allowed size "
                         b"(proto-max-bulk-len)\r\n")
        self.assertEqual(c.call("STRLEN", "atlimit"), 1 << 20)
        # ...and a bulk one byte longer is a protocol error
        self.closes_with(b"*2\r\n$4\r\nECHO\r\n$1048577\r\n",
                         PERR + b"invalid bulk length\r\n")
        self.assertEqual(self.r.call("CONFIG", "SET", "proto-max-bulk-len",
                                     "abc"),
                         h.Error(b"ERR CONFIG SET failed (possibly related to "
                                 b"argument 'proto-max-bulk-len') - argument "
                                 b"must be a memory value"))

    # -- QUIT
    def test_quit(self):
        # the replies before QUIT (some made on the other shard) all come,
        # in order; nothing after QUIT runs
        for n in range(4):
            c = self.client()
            c.send_raw(h.encode_command("SET", "a", n) +
                       h.encode_command("SET", "k", n) +
                       h.encode_command("MGET", "a", "k") +
                       h.encode_command("QUIT") +
                       h.encode_command("SET", "a", "after") +
                       h.encode_command("SET", "k", "after"))
            self.assertEqual(c.read_raw_until_closed(timeout=5),
                             b"+OK\r\n+OK\r\n*2\r\n$1\r\n%d\r\n$1\r\n%d"
                             b"\r\n+OK\r\n" % (n, n))
            self.assertEqual(self.r.call("MGET", "a", "k"),
                             [b"%d" % n, b"%d" % n])
        c = self.client(resp=3)
        c.send_raw(b"QUIT\r\nPING\r\n")
        self.assertEqual(c.read_raw_until_closed(timeout=5), b"+OK\r\n")
        c = self.client()
        self.assertEqual(c.call("QUIT", "extra", "args"), Simple(b"OK"))
        self.assertTrue(c.is_closed(timeout=5))

    def test_half_close_gets_every_reply(self):
        # printf 'SET k v\r\nGET k\r\n' | nc: the client shuts its side
        # down right after sending; the replies still all come, those made
        # on the other shard included (they arrive after the end of input)
        keys = ["hc:%d" % i for i in range(16)]
        want = b""
        req = b""
        for n, k in enumerate(keys):
            req += h.encode_command("SET", k, n) + h.encode_command("GET", k)
            want += b"+OK\r\n$%d\r\n%d\r\n" % (len(str(n)), n)
        req += h.encode_command("MGET", *keys)
        want += b"*16\r\n" + b"".join(b"$%d\r\n%d\r\n" % (len(str(n)), n)
                                      for n in range(16))
        for _ in range(3):
            c = self.client()
            c.send_raw(req)
            c.sock.shutdown(socket.SHUT_WR)
            self.assertEqual(c.read_raw_until_closed(timeout=5), want)


if __name__ == "__main__":
    unittest.main()
