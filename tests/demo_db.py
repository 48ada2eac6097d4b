# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The small demo database of the browser tests, built once per process
with scripts/setup_db.py (as ./dms run builds it) and copied by each test
class: the back office and the portal walk the same demo."""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL = ('--distributors', '24', '--products', '6', '--stores', '40')
_BUILT = {}


def demo_database(args=SMALL):
    "The path of a SQLite demo database built with args (kept per process)"
    key = tuple(args)
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
    return _BUILT[key]
