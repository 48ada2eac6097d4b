# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The small demo database of the browser tests, built once per process
with scripts/setup_db.py (as ./dms run builds it) and copied by each test
class: the back office and the portal walk the same demo, each served by
its own trytond (DemoServer)."""
import atexit
import datetime as dt
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL = ('--distributors', '24', '--products', '6', '--stores', '40')
_BUILT = {}


def fingerprint(args):
    """What a demo database is made of: the arguments, today (the demo's
    dates follow it), the versions of the installed distributions, and
    every file of addons/ (tests aside) and of the scripts that build
    it"""
    from importlib.metadata import distributions
    digest = hashlib.sha1(repr((tuple(args), dt.date.today())).encode())
    for version in sorted(f'{d.metadata["Name"]}=={d.version}'
            for d in distributions()):
        digest.update(version.encode())
    scripts = ROOT / 'scripts'
    files = [scripts / 'setup_db.py', scripts / 'generate.py',
        *(p for p in sorted((ROOT / 'addons').rglob('*'))
            if p.is_file() and 'tests' not in p.relative_to(ROOT).parts
            and '__pycache__' not in p.parts)]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def demo_database(args=SMALL):
    """The path of a SQLite demo database built with args (kept per
    process).  DMS_DEMO_CACHE names a folder that keeps the demos built
    between runs, by their fingerprint (what they are built from: a change
    of code or of day builds a new one)"""
    key = tuple(args)
    cache = os.environ.get('DMS_DEMO_CACHE')
    if key not in _BUILT and cache:
        cached = Path(cache) / f'demo-{fingerprint(args)}.sqlite'
        if cached.exists():
            _BUILT[key] = cached
    else:
        cached = None
    if key not in _BUILT:
        tmp = Path(tempfile.mkdtemp(prefix='dms-demo-'))
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
        (tmp / 'db').mkdir()
        config = tmp / 'trytond.conf'
        config.write_text(f'''[database]
uri = sqlite://
path = {tmp / 'db'}
[password]
length = 8
''')
        env = {k: v for k, v in os.environ.items()
            if not k.startswith(('TRYTOND_', 'DB_'))}
        subprocess.run([sys.executable, str(ROOT / 'scripts' / 'setup_db.py'),
                '-c', str(config), '-d', 'dms', *args],
            check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        _BUILT[key] = tmp / 'db' / 'dms.sqlite'
        if cached:
            # the fingerprint taken before the build: a file changed
            # meanwhile makes the next run build again
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_name(f'.{os.getpid()}-{cached.name}')
            shutil.copy(_BUILT[key], partial)
            partial.rename(cached)
            # the three newest are enough (one per day or change)
            for old in sorted(cached.parent.glob('demo-*.sqlite'),
                    key=lambda p: p.stat().st_mtime)[:-3]:
                old.unlink(missing_ok=True)
    return _BUILT[key]


def free_port():
    "A free TCP port of the loopback"
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class DemoServer:
    """trytond serving a copy of the demo database on a free port of the
    loopback, as ./dms run serves it (SQLite), in a temporary folder:

        server = DemoServer()
        server.start({'web': {'root': WEB}}, ready='/')
        server.url  # http://127.0.0.1:PORT
        server.log_text()  # what trytond logged so far
        server.stop()

    database: the SQLite file to copy (default: demo_database())."""

    def __init__(self, database=None, prefix='dms-server-'):
        self.database = database
        self.prefix = prefix
        self.tmp = self.process = self.log = None
        self.port = self.url = None

    def start(self, extra_config=None, ready='/', timeout=60):
        """Start trytond and wait until ready (a path) answers;
        extra_config: {section: {option: value}} added to its
        configuration (the database, [web] listen and the password length
        are set)"""
        self.tmp = Path(tempfile.mkdtemp(prefix=self.prefix))
        (self.tmp / 'db').mkdir()
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        sections = {
            'database': {'uri': 'sqlite://', 'path': self.tmp / 'db'},
            'web': {'listen': f'127.0.0.1:{self.port}'},
            'password': {'length': 8},
            }
        for section, options in (extra_config or {}).items():
            sections.setdefault(section, {}).update(options)
        config = self.tmp / 'trytond.conf'
        config.write_text(''.join(f'[{section}]\n' + ''.join(
                    f'{option} = {value}\n'
                    for option, value in options.items())
                for section, options in sections.items()))
        shutil.copy(self.database or demo_database(),
            self.tmp / 'db' / 'dms.sqlite')
        env = {k: v for k, v in os.environ.items()
            if not k.startswith(('TRYTOND_', 'DB_'))}
        trytond = str(Path(sys.executable).parent / 'trytond')
        self.log = open(self.tmp / 'trytond.log', 'w')
        self.process = subprocess.Popen(
            [trytond, '-c', str(config), '-d', 'dms'], env=env, cwd=ROOT,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                urllib.request.urlopen(self.url + ready, timeout=2)
                return self
            except OSError:
                time.sleep(0.5)
        text = self.log_text()
        self.stop()
        raise AssertionError(f'trytond did not start:\n{text[-3000:]}')

    def log_text(self):
        "What trytond logged so far"
        if self.log is None:
            return ''
        self.log.flush()
        return (self.tmp / 'trytond.log').read_text(errors='replace')

    def stop(self):
        "Stop trytond and remove its folder"
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
