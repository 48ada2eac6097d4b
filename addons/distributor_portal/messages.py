# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The inbox (消息): the messages the workflows post to the caller's party
(distributor.message), newest first; opening one marks it read, and all
of them can be marked read at once.

Only the caller's own party's messages: the record rules let a portal
identity read the messages of every party it reaches (its stores and
downstream distributors too), the inbox filters on ``portal.party``.
Marking read goes through ``Message.mark_read`` once the messages are
resolved for the caller (the portal group has no write access to the
model: reading one's inbox is not a business write)."""
import logging

from trytond import backend
from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.access import trusted

from .i18n import N_
from .web import EVERY_ROLE, PREFIX, api, page

logger = logging.getLogger(__name__)


def _domain(portal, unread=False):
    domain = [('party', '=', portal.party.id)]
    if unread:
        domain.append(('read_at', '=', None))
    return domain


def _message(message, body=False):
    value = {
        'id': message.id,
        'date': message.date,
        'subject': message.subject,
        'read': message.read_at is not None,
        'read_at': message.read_at,
        }
    if body:
        value['body'] = message.body
    return value


def _list(portal, unread=False):
    "offset, limit, total and the messages of the caller's window"
    Message = Pool().get('distributor.message')
    offset, limit = portal.page_window()
    domain = _domain(portal, unread)
    total = Message.search_count(domain)
    messages = Message.search(domain, offset=offset, limit=limit)
    return offset, limit, total, messages


def _resolve(portal, message):
    "The caller's own message, or the 404 of a missing one"
    return portal.resolve('distributor.message', message,
        domain=_domain(portal))


def mark_read(messages):
    "Mark the caller's resolved messages read, through the model"
    Message = Pool().get('distributor.message')
    with trusted():
        Message.mark_read(list(messages))


def mark_read_now(message):
    """Mark a resolved message read from a read-only request (a page
    shown by GET): a short transaction of its own, committed at once;
    whether it was unread"""
    if message.read_at is not None:
        return False
    transaction = Transaction()
    if not transaction.readonly:
        mark_read([message])
        return True
    try:
        with transaction.new_transaction() as new:
            Message = Pool().get('distributor.message')
            mark_read([Message(message.id)])
            new.commit()
    except backend.DatabaseOperationalError:
        # busy: it stays unread until the next opening
        logger.debug("message %s not marked read", message.id,
            exc_info=True)
        return False
    return True


def mark_all_read(portal):
    "Mark every unread message of the caller's party read; their number"
    Message = Pool().get('distributor.message')
    messages = Message.search(_domain(portal, unread=True), order=[])
    mark_read(messages)
    return len(messages)


def _unread_only(portal):
    return portal.request.args.get('unread') in {'1', 'true'}


@page('/messages')
def messages_page(portal):
    "The inbox"
    unread = _unread_only(portal)
    offset, limit, total, messages = _list(portal, unread)
    return portal.render('messages_list.html', messages=messages,
        total=total, offset=offset, limit=limit, unread_only=unread)


@page('/messages/<int:message>', ids={'message': 'distributor.message'})
def message_page(portal, message):
    "A message, marked read once shown"
    Message = Pool().get('distributor.message')
    record = _resolve(portal, message)
    unread = Message.search_count(_domain(portal, unread=True))
    if mark_read_now(record):
        unread -= 1
    return portal.render('messages_detail.html', message=record,
        read=True, unread=max(unread, 0))


@page('/messages/read-all', methods=('POST',), roles=EVERY_ROLE)
def messages_read_all_page(portal):
    "Mark every message read"
    mark_all_read(portal)
    return portal.redirect(PREFIX + '/messages',
        flash=portal._(N_("All messages are marked read.")))


@page('/messages/<int:message>/read', methods=('POST',), roles=EVERY_ROLE,
    ids={'message': 'distributor.message'})
def message_read_page(portal, message):
    "Mark a message read"
    mark_read([_resolve(portal, message)])
    return portal.redirect(PREFIX + '/messages')


@api('/messages', tag='messages', paginated=True,
    query={'unread': {'type': 'boolean'}})
def api_messages(portal):
    "The caller's messages, newest first (unread=true: the unread only)"
    offset, limit, total, messages = _list(portal, _unread_only(portal))
    result = portal.paginated([_message(m) for m in messages], total,
        offset, limit)
    Message = Pool().get('distributor.message')
    result['unread'] = Message.search_count(_domain(portal, unread=True))
    return result


@api('/messages/<int:message>', tag='messages',
    ids={'message': 'distributor.message'})
def api_message(portal, message):
    "A message (reading it does not mark it read: POST .../read does)"
    return _message(_resolve(portal, message), body=True)


@api('/messages/<int:message>/read', methods=('POST',), roles=EVERY_ROLE,
    tag='messages', ids={'message': 'distributor.message'})
def api_message_read(portal, message):
    "Mark a message read"
    record = _resolve(portal, message)
    mark_read([record])
    return _message(record.__class__(record.id))


@api('/messages/read-all', methods=('POST',), roles=EVERY_ROLE, tag='messages')
def api_messages_read_all(portal):
    "Mark every message of the caller read; answers how many were unread"
    return {'marked': mark_all_read(portal)}
