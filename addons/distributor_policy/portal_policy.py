# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The policies inbox (政策): the policies published to the caller's
distributor, not viewed first; opening one records the view (查看), an
explicit acknowledgement (确认) records who confirmed it, and its
attachments download from here.

Only the caller's own party's policies: the record rules let a portal
identity read the policies of every party it reaches, the pages filter on
``portal.party``.  Every role may read (the view-only role too: opening a
policy records the view, which is no business write); every role but
view-only may acknowledge (distributor.policy dms_acknowledge_policy).

The body is Tryton's rich text (HTML from the client's editor): it is
rebuilt from a whitelist of tags without any attribute (neither bleach
nor nh3 is installed: sanitize_html below), the text escaped."""
import html
import logging
import mimetypes
import re
import urllib.parse
from html.parser import HTMLParser

from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from trytond import backend
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor.access import trusted
from distributor.exceptions import RecordNotFound
from distributor_portal.i18n import N_
from distributor_portal.web import PREFIX, api, page

logger = logging.getLogger(__name__)

DISTRIBUTOR = {'distributor'}
# acknowledging: every role but view-only (admin may everything)
ACKNOWLEDGE_ROLES = {'orders', 'stock', 'finance'}
POLICY_IDS = {'policy': 'distributor.policy'}
ATTACHMENT_IDS = {'policy': 'distributor.policy',
    'attachment': 'ir.attachment'}
KIND_LABELS = {
    'discount': N_("Purchase Discount"),
    'promotion': N_("Promotion"),
    'rebate': N_("Rebate Program"),
    'notice': N_("Notice"),
    }
STATE_LABELS = {
    'published': N_("In force"),
    'closed': N_("Closed"),
    }
# the rich text kept: tags without attributes
ALLOWED_TAGS = {'p', 'br', 'div', 'span', 'b', 'strong', 'i', 'em', 'u',
    's', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'blockquote', 'pre',
    'code', 'hr', 'sub', 'sup', 'table', 'thead', 'tbody', 'tr', 'th',
    'td'}
VOID_TAGS = {'br', 'hr'}
# whose content goes with them
DROPPED_TAGS = {'script', 'style', 'iframe', 'object', 'embed', 'template',
    'noscript', 'svg', 'math', 'head', 'title'}
# files a browser may show itself; anything else is a download
INLINE_TYPES = {'image/png', 'image/jpeg', 'image/gif', 'image/webp',
    'application/pdf'}


class _Sanitizer(HTMLParser):
    "Rebuild HTML from the allowed tags only, without attributes"

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []
        self.open = []
        self.dropping = 0

    def handle_starttag(self, tag, attrs):
        if tag in DROPPED_TAGS:
            self.dropping += 1
            return
        if self.dropping or tag not in ALLOWED_TAGS:
            return
        if tag in VOID_TAGS:
            self.out.append(f'<{tag}>')
            return
        self.out.append(f'<{tag}>')
        self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        if not self.dropping and tag in VOID_TAGS:
            self.out.append(f'<{tag}>')

    def handle_endtag(self, tag):
        if tag in DROPPED_TAGS:
            self.dropping = max(self.dropping - 1, 0)
            return
        if self.dropping or tag not in self.open:
            return
        # close what was left open inside it
        while self.open:
            last = self.open.pop()
            self.out.append(f'</{last}>')
            if last == tag:
                break

    def handle_data(self, data):
        if not self.dropping:
            self.out.append(html.escape(data, quote=False))

    def result(self):
        self.close()
        return ''.join(self.out) + ''.join(
            f'</{t}>' for t in reversed(self.open))


_TAG = re.compile(r'<[a-zA-Z/!]')


def sanitize_html(text):
    """The rich text of a policy, safe to show: HTML rebuilt from
    ALLOWED_TAGS (no attributes, no scripts or styles, text escaped);
    a plain text is escaped with its line breaks kept"""
    if not text:
        return Markup('')
    if not _TAG.search(text):
        return Markup('<br>').join(escape(l) for l in text.split('\n'))
    parser = _Sanitizer()
    parser.feed(text)
    return Markup(parser.result())


def _policy(portal, policy):
    "The caller's own policy, or the 404 of a missing one"
    return portal.resolve('distributor.policy', policy, 'policy', domain=[
            ('recipients.distributor', '=', portal.party.id),
            ])


def _attachments(record):
    "The files (and web links) attached to a resolved policy"
    Attachment = Pool().get('ir.attachment')
    with trusted():
        attachments = Attachment.search([
                ('resource', '=', str(record)),
                ], order=[('name', 'ASC'), ('id', 'ASC')])
        result = []
        for attachment in attachments:
            if attachment.type == 'link':
                link = attachment.link or ''
                if urllib.parse.urlsplit(link).scheme not in {
                        'http', 'https'}:
                    continue
                url = link
            else:
                url = (f'{PREFIX}/policies/{record.id}/attachments/'
                    f'{attachment.id}')
            result.append({
                    'id': attachment.id,
                    'name': attachment.name,
                    'type': attachment.type,
                    'size': attachment.data_size
                    if attachment.type == 'data' else None,
                    'url': url,
                    })
    return result


def _read(portal, record):
    "A resolved policy as the caller sees it, recording nothing"
    pool = Pool()
    Policy = pool.get('distributor.policy')
    Recipient = pool.get('distributor.policy.recipient')
    recipient, = Recipient.search([
            ('policy', '=', record.id),
            ('distributor', '=', portal.party.id),
            ], limit=1)
    return Policy.dms_policy_values(record, recipient, body=True)


def _view(portal, policy):
    """The caller's policy, its first view recorded (Policy
    dms_view_policy); from a read-only request (a GET) in a short
    transaction of its own, committed at once"""
    Policy = Pool().get('distributor.policy')
    record = _policy(portal, policy)
    transaction = Transaction()
    if not transaction.readonly:
        value = Policy.dms_view_policy(portal.party.id, record.id)
    else:
        try:
            with transaction.new_transaction() as new:
                value = Policy.dms_view_policy(portal.party.id, record.id)
                new.commit()
        except backend.DatabaseOperationalError:
            # busy: the view is recorded at the next opening
            logger.debug("view of policy %s not recorded", record.id,
                exc_info=True)
            value = _read(portal, record)
    value['attachments'] = _attachments(record)
    return value


def _acknowledge(portal, policy):
    Policy = Pool().get('distributor.policy')
    record = _policy(portal, policy)
    value = Policy.dms_acknowledge_policy(portal.party.id, record.id)
    value['attachments'] = _attachments(record)
    return value


def _list(portal):
    Policy = Pool().get('distributor.policy')
    return Policy.dms_list_policies(portal.party.id)


def _labels(portal):
    return {
        'kinds': {k: portal._(v) for k, v in KIND_LABELS.items()},
        'states': {k: portal._(v) for k, v in STATE_LABELS.items()},
        }


# Pages

@page('/policies', kinds=DISTRIBUTOR)
def policies_page(portal):
    "The policies inbox: not viewed first, then the newest"
    policies = _list(portal)
    return portal.render('policy_list.html', policies=policies,
        unviewed=sum(1 for p in policies if not p['viewed']),
        **_labels(portal))


@page('/policies/<int:policy>', kinds=DISTRIBUTOR, ids=POLICY_IDS)
def policy_page(portal, policy):
    "A policy: its body, validity and attachments; opening it is a view"
    value = _view(portal, policy)
    return portal.render('policy_detail.html', policy=value,
        body=sanitize_html(value['body']),
        may_acknowledge=portal.may(*ACKNOWLEDGE_ROLES),
        **_labels(portal))


@page('/policies/<int:policy>/acknowledge', methods=('POST',),
    kinds=DISTRIBUTOR, roles=ACKNOWLEDGE_ROLES, ids=POLICY_IDS)
def policy_acknowledge_page(portal, policy):
    "Acknowledge a policy (again: nothing changes)"
    value = _acknowledge(portal, policy)
    return portal.redirect(f'{PREFIX}/policies/{value["id"]}',
        flash=portal._(N_("The policy is acknowledged.")))


@page('/policies/<int:policy>/attachments/<int:attachment>',
    kinds=DISTRIBUTOR, ids=ATTACHMENT_IDS)
def policy_attachment_page(portal, policy, attachment):
    "Download a file attached to one of the caller's policies"
    Attachment = Pool().get('ir.attachment')
    record = _policy(portal, policy)
    attachment = portal.int_arg(attachment, 'attachment')
    # the policy is the caller's: its files are read as trusted
    with trusted():
        found = Attachment.search([
                ('id', '=', attachment),
                ('resource', '=', str(record)),
                ('type', '=', 'data'),
                ], limit=1)
        if not found:
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=Attachment.__names__()['model'], id=attachment))
        file, = found
        name = file.name or 'attachment'
        data = bytes(file.data or b'')
    mimetype = mimetypes.guess_type(name)[0] or 'application/octet-stream'
    disposition = 'inline' if mimetype in INLINE_TYPES else 'attachment'
    if disposition == 'attachment':
        mimetype = 'application/octet-stream'
    quoted = urllib.parse.quote(name, safe='')
    ascii_name = (name.encode('ascii', 'ignore').decode()
        .replace('"', '').replace('\\', '') or 'attachment')
    return Response(data, mimetype=mimetype, headers={
            'Content-Disposition': f'{disposition}; filename="{ascii_name}"'
            f"; filename*=UTF-8''{quoted}",
            'Content-Security-Policy': "default-src 'none'; sandbox",
            })


# The API

@api('/policies', kinds=DISTRIBUTOR, tag='policies', paginated=True)
def api_policies(portal):
    """The policies published to the caller's distributor (without their
    body), not viewed first: kind, validity, viewed and acknowledged"""
    offset, limit = portal.page_window()
    policies = _list(portal)
    return portal.paginated(policies[offset:offset + limit], len(policies),
        offset, limit)


@api('/policies/<int:policy>', kinds=DISTRIBUTOR, tag='policies',
    ids=POLICY_IDS)
def api_policy(portal, policy):
    """A policy with its body (rich text, HTML as the brand wrote it) and
    its attachments; reading it records the caller's first view.
    body_html is the body made safe to show (see sanitize_html)"""
    value = _view(portal, policy)
    value['body_html'] = str(sanitize_html(value['body']))
    return value


@api('/policies/<int:policy>/acknowledge', methods=('POST',),
    kinds=DISTRIBUTOR, roles=ACKNOWLEDGE_ROLES, tag='policies',
    ids=POLICY_IDS)
def api_acknowledge_policy(portal, policy):
    """Acknowledge a policy in force; again changes nothing (the first
    acknowledgement's time and user stay)"""
    return _acknowledge(portal, policy)
