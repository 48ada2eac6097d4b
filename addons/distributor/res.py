# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Login throttling that cannot lock a colleague out for long.

trytond counts the failed logins of a login (per device) over the session
timeout (8 hours here) and refuses the login once they pass
``[session] max_attempt``, counting the refused tries too: seven wrong
passwords typed by anyone locked the channel manager out for a working
day.  Here the failures count over ``[session] attempt_window`` seconds
(default 300), and a try refused while blocked does not count again, so a
login is free again at most that long after the last real failure."""
import datetime as dt

from trytond.config import config
from trytond.pool import PoolMeta


def attempt_window():
    "Seconds over which failed logins count"
    return config.getint('session', 'attempt_window', default=300)


class LoginAttempt(metaclass=PoolMeta):
    __name__ = 'res.user.login.attempt'

    @staticmethod
    def delay():
        return dt.datetime.now() - dt.timedelta(seconds=attempt_window())

    @classmethod
    def add(cls, login, device_cookie=None):
        # trytond adds an attempt for a try it refused as blocked too
        if cls.count(login, device_cookie) > config.getint(
                'session', 'max_attempt', default=5):
            return
        super().add(login, device_cookie)
