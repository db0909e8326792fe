"""COMMAND DOCS against redis-server 7.0: what redis-cli's help and hints show.

redis-cli 7.0 builds `help <command>` and the grey hint it shows while a
command is typed from the server's COMMAND DOCS.  For every public command
of the target (its COMMAND LIST) and every subcommand its COMMAND DOCS
lists, this test compares the target with a redis-server it starts itself:

  * `redis-cli help <command>` and `help <container> <subcommand>`: the
    exact bytes redis-cli prints (colours included);
  * the hint shown after typing "<command> " into an interactive redis-cli
    on a pseudo-terminal (one session per server types them all);
  * COMMAND DOCS itself, read as typed RESP3: summary, since, group,
    deprecation and the whole argument tree (name, type, token, since,
    deprecated_since, flags, nested arguments) of each command and
    subcommand; a subcommand's complexity too.

Where ember differs on purpose, the difference is listed below with its
reason.  Against ember every listed difference is checked to be exactly
what it says (a subcommand said to be missing is missing, and ember
answers it as an unknown subcommand), so the lists cannot go stale.
EMBER_TARGET=redis compares redis-server with itself: no difference is
allowed then.
"""

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

# Subcommands Redis documents that ember does not have (it answers them as
# unknown subcommands), so its container's help lists fewer.
MISSING_SUBCOMMANDS = {
    "client|caching": "ember has no client-side caching (CLIENT TRACKING)",
    "client|getredir": "ember has no client-side caching (CLIENT TRACKING)",
    "client|tracking": "ember has no client-side caching",
    "client|trackinginfo": "ember has no client-side caching (CLIENT TRACKING)",
    "client|pause": "ember has no CLIENT PAUSE",
    "client|unpause": "ember has no CLIENT PAUSE",
    "client|reply": "ember has no CLIENT REPLY: it always replies",
    "client|unblock": "ember has no CLIENT UNBLOCK",
    "memory|doctor": "ember has no MEMORY DOCTOR",
    "memory|stats": "ember has no MEMORY STATS",
}

# Commands whose arguments differ: the top-level arguments of Redis's that
# ember does not take, the syntax line redis-cli then shows, and why.
ARGUMENT_DIFFERENCES = {}

# Parts of a DOCS entry not compared (redis-cli shows none of them).
NOT_COMPARED = {
    b"key_spec_index": "ember's COMMAND DOCS does not point arguments at "
                       "COMMAND INFO's key specs",
    b"history": "ember does not carry Redis's history notes",
    b"complexity": "a command's complexity is ember's own wording "
                   "(commands.h); a subcommand's is compared",
}

HINT_RE = rb"(?:\x1b\[0;90;49m(.*?)\x1b\[0m)?(?:\x1b\[0K|\r)"


def strip(value):
    """A DOCS value without the parts NOT_COMPARED (at any depth)."""
    if isinstance(value, dict):
        return h.Map((k, strip(v)) for k, v in value.items()
                     if k not in NOT_COMPARED)
    if isinstance(value, list):
        return type(value)(strip(v) for v in value)
    return value


def help_blocks(out):
    """redis-cli's help output as [(title, text)]: one block a command,
    titled by its bold name ("CLIENT KILL")."""
    return [(m.group(1), m.group(0)) for m in re.finditer(
        r"\r?\n  \x1b\[1m([^\x1b]*)\x1b\[0m[^\n]*\n(?:  [^\n]*\n)*", out)]


def doc_name(title):
    """"CLIENT KILL" -> "client|kill", Redis's name for a subcommand."""
    return title.lower().replace(" ", "|")


class Terminal(object):
    """An interactive redis-cli on a pseudo-terminal, to read its hints."""

    def __init__(self, server, columns=4000):
        exe = os.environ.get("REDIS_CLI") or shutil.which("redis-cli") or \
            "/usr/bin/redis-cli"
        self.prompt = ("%s:%d> " % (server.host, server.port)).encode()
        self.fd, child = pty.openpty()
        # Wide enough that linenoise never cuts a hint short.
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ,
                    struct.pack("HHHH", 50, columns, 0, 0))
        env = dict(os.environ, TERM="xterm", REDISCLI_HISTFILE="/dev/null",
                   REDISCLI_RCFILE="/dev/null")
        self.proc = subprocess.Popen(
            [exe, "-h", server.host, "-p", str(server.port)], stdin=child,
            stdout=child, stderr=child, env=env, start_new_session=True)
        os.close(child)
        self.out = b""
        self.wait_for(lambda: self.prompt in self.out, "the prompt")

    def read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return
        try:
            data = os.read(self.fd, 65536)
        except OSError:      # EIO: redis-cli is gone
            data = b""
        if not data:
            raise AssertionError("redis-cli exited: %r" % self.out[-500:])
        if b"\x1b[6n" in data:                 # where is the cursor?
            os.write(self.fd, b"\x1b[1;1R")
        self.out += data

    def wait_for(self, pred, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                raise AssertionError("redis-cli: no %s; last output %r" %
                                     (what, self.out[-500:]))
            self.read(0.1)

    def hint(self, text):
        """Types text, returns the hint shown after it (None: no hint),
        then clears the line (Ctrl-U)."""
        self.out = b""
        os.write(self.fd, text.encode() + b"\x15")
        typed = re.compile(re.escape(self.prompt + text.encode()) + HINT_RE,
                           re.S)
        cleared = re.compile(re.escape(self.prompt) + rb"(?:\x1b\[0K|\r)")
        found = []

        def done():
            if not found:
                m = typed.search(self.out)
                if m:
                    found.append(m)
            return found and cleared.search(self.out, found[0].end())
        self.wait_for(done, "hint for %r" % text)
        g = found[0].group(1)
        return None if g is None else g.decode()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        os.close(self.fd)


class CommandDocsTest(h.ServerTestCase):

    ref = None                     # the reference redis-server

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.ref = h.start_server(kind="redis")
            cls.read_docs()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def read_docs(cls):
        with cls.server.client() as c:
            info = c.call("INFO", "server")
            # (Redis lists its subcommands too, as "acl|cat".)
            cls.names = sorted(n.decode() for n in c.call("COMMAND", "LIST")
                               if b"|" not in n)
        # The differences are ember's; any other target must match Redis.
        cls.ember = b"ember_version:" in info
        with cls.server.client(resp=3) as c:
            cls.docs = c.call("COMMAND", "DOCS", *cls.names)
        with cls.ref.client(resp=3) as c:
            cls.ref_docs = c.call("COMMAND", "DOCS", *cls.names)

    @classmethod
    def tearDownClass(cls):
        ref, cls.ref = cls.ref, None
        try:
            if ref is not None:
                ref.stop()
        finally:
            super().tearDownClass()

    # -- helpers

    def subcommands(self, name):
        """The target's documented subcommands of name ("client|kill"...)."""
        subs = self.docs[name.encode()].get(b"subcommands", {})
        return sorted(s.decode() for s in subs)

    def missing(self, name):
        return self.ember and name in MISSING_SUBCOMMANDS

    def difference(self, name):
        return ARGUMENT_DIFFERENCES.get(name) if self.ember else None

    def help(self, server, words):
        r = server.cli("help", *words)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("Could not connect", r.stderr)
        return r.stdout

    def expected_help(self, ref_out):
        """What the target should print, given what redis-server's help
        printed: without the missing subcommands, with the syntax lines of
        the listed differences."""
        out = ref_out
        for title, block in help_blocks(ref_out):
            name = doc_name(title)
            if self.missing(name):
                out = out.replace(block, "", 1)
            elif self.difference(name):
                params = self.difference(name)["params"]
                new = re.sub(r"(\x1b\[90m).*?(\x1b\[0m)",
                             lambda m: m.group(1) + params + m.group(2),
                             block, count=1)
                out = out.replace(block, new, 1)
        return out

    def expected_args(self, name, ref_entry):
        args = strip(ref_entry).get(b"arguments")
        diff = self.difference(name)
        if diff and args is not None:
            args = [a for a in args
                    if a[b"name"].decode() not in diff["drops"]] or None
        return args

    def check_entry(self, name, got, ref, subcommand):
        """One DOCS entry of the target against Redis's."""
        fields = [b"summary", b"since", b"group", b"doc_flags",
                  b"deprecated_since", b"replaced_by"]
        if subcommand:
            fields.append(b"complexity")
        for f in fields:
            self.assertEqual(got.get(f), ref.get(f), "%s: %s" % (name, f))
        self.assertEqual(strip(got).get(b"arguments"),
                         self.expected_args(name, ref),
                         "%s: arguments" % name)
        extra = set(got) - set(ref) - {b"arguments"}
        self.assertFalse(extra, "%s: fields Redis does not give" % name)

    # -- tests

    def test_help_every_command(self):
        """`redis-cli help <command>` prints the same for every command
        (a container lists its subcommands too)."""
        for name in self.names:
            with self.subTest(command=name):
                got = self.help(self.server, [name])
                self.assertIn("\x1b[1m%s\x1b[0m" % name.upper(), got)
                self.assertEqual(got, self.expected_help(
                    self.help(self.ref, [name])))

    def test_help_every_subcommand(self):
        """`redis-cli help <container> <subcommand>` likewise."""
        n = 0
        for name in self.names:
            for sub in self.subcommands(name):
                words = sub.split("|")
                with self.subTest(subcommand=sub):
                    got = self.help(self.server, words)
                    self.assertIn("\x1b[1m%s\x1b[0m" % " ".join(words).upper(),
                                  got)
                    self.assertEqual(got, self.expected_help(
                        self.help(self.ref, words)))
                n += 1
        self.assertGreater(n, 30)

    def test_hints(self):
        """The inline hint after "<command> " and "<container> <sub> " is
        the same in an interactive redis-cli."""
        texts = []
        for name in self.names:
            texts.append(name)
            texts += [s.replace("|", " ") for s in self.subcommands(name)]
        hints = {}
        for label, server in (("target", self.server), ("redis", self.ref)):
            term = Terminal(server)
            try:
                hints[label] = {t: term.hint(t + " ") for t in texts}
            finally:
                term.close()
        for t in texts:
            with self.subTest(typed=t):
                expect = hints["redis"][t]
                diff = self.difference(t.replace(" ", "|"))
                if diff:
                    expect = diff["params"]
                self.assertEqual(hints["target"][t], expect)
        self.assertEqual(hints["target"]["set"],
                         "key value [NX|XX] [GET] [EX seconds|PX milliseconds"
                         "|EXAT unix-time-seconds|PXAT unix-time-milliseconds"
                         "|KEEPTTL]")

    def test_docs_arguments(self):
        """COMMAND DOCS: every command's and subcommand's entry, arguments
        included, is Redis's (typed RESP3: sets, simple strings, maps)."""
        self.assertEqual(sorted(self.docs), sorted(self.ref_docs))
        for name in self.names:
            got, ref = self.docs[name.encode()], self.ref_docs[name.encode()]
            with self.subTest(command=name):
                self.check_entry(name, got, ref, False)
                subs = got.get(b"subcommands", h.Map())
                ref_subs = ref.get(b"subcommands", h.Map())
                for s in ref_subs:
                    if s not in subs:
                        self.assertTrue(self.missing(s.decode()),
                                        "%s is not documented" % s.decode())
                for s in subs:
                    self.assertIn(s, ref_subs, "Redis has no %s" % s.decode())
                    self.check_entry(s.decode(), subs[s], ref_subs[s], True)

    def test_docs_of_every_command_at_once(self):
        """COMMAND DOCS without names (what redis-cli sends) gives every
        command, as COMMAND DOCS <name> does."""
        for resp in (2, 3):
            with self.client(resp=resp) as c:
                every = c.call("COMMAND", "DOCS")
                named = c.call("COMMAND", "DOCS", *self.names)
            if resp == 2:
                every = dict(zip(every[::2], every[1::2]))
                named = dict(zip(named[::2], named[1::2]))
            self.assertEqual(every, named)

    def test_listed_differences_hold(self):
        """Against ember: each missing subcommand is unknown to ember, and
        each listed difference is one Redis really has."""
        if not self.ember:
            self.skipTest("the differences are ember's")
        for name, why in sorted(MISSING_SUBCOMMANDS.items()):
            container, sub = name.split("|")
            with self.subTest(subcommand=name, reason=why):
                self.assertIn(name.encode(), self.ref_docs[
                    container.encode()][b"subcommands"])
                self.assertNotIn(name.encode(), self.docs[
                    container.encode()].get(b"subcommands", {}))
                reply = self.r.call(container, sub, "0", "0")
                self.assertIsInstance(reply, h.Error)
                self.assertIn("nknown subcommand", reply.text)
        for name, diff in sorted(ARGUMENT_DIFFERENCES.items()):
            container, sub = name.split("|")
            with self.subTest(command=name, reason=diff["reason"]):
                ref = self.ref_docs[container.encode()][b"subcommands"][
                    name.encode()]
                names = [a[b"name"].decode()
                         for a in ref.get(b"arguments", [])]
                for drop in diff["drops"]:
                    self.assertIn(drop, names)


if __name__ == "__main__":
    unittest.main()
