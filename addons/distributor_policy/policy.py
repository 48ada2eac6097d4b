# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Policies (政策): what the brand tells its distributors, to whom, and who
read and acknowledged it.

A policy (purchase discount, promotion, rebate program or notice) has a
rich-text body, attachments (Tryton's ir.attachment on the record: the
portal lists and serves them to the recipients), validity dates and its
targets.  Publishing it computes its recipients once, one row per
distributor, and posts each a message in its portal inbox; each
recipient's first view and its explicit acknowledgement are recorded with
time and user.  Managers see the read and acknowledgement rates and remind
those who have not acknowledged yet.

The other parts of the module extend the policy (PoolMeta) through its
hooks: dms_check_publish (refuse an incomplete policy), dms_publish_hook
(after the recipients are computed) and dms_close_hook (on close and
withdrawal)."""
import datetime as dt

from sql.aggregate import Count

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from distributor.access import entry_point, is_trusted, trusted
from distributor.document import (
    Document, DocumentLine, DocumentLog, ReasonWizard, serialize)
from distributor.exceptions import RecordNotFound
from distributor.party import GRADES

from .exceptions import PolicyError

KINDS = [
    ('discount', "Purchase Discount"),
    ('promotion', "Promotion"),
    ('rebate', "Rebate Program"),
    ('notice', "Notice"),
    ]
STATES = [
    ('draft', "Draft"),
    ('published', "Published"),
    ('closed', "Closed"),
    ('withdrawn', "Withdrawn"),
    ]
# the states a recipient sees a policy in (the portal's rules too)
VISIBLE_STATES = ['published', 'closed']
# the target fields: a distributor matching any of them is a recipient
TARGET_FIELDS = ['tiers', 'territories', 'categories', 'grades',
    'distributors']
# ids a query takes at once
IN_MAX = 500


def _now():
    return dt.datetime.now().replace(microsecond=0)


class Policy(Document, ModelSQL, ModelView):
    """Policy (政策)

    A purchase discount, promotion, rebate program or notice of the brand
    to its distributors.

    Targets: a distributor receives the policy when it matches ANY of the
    target sets (OR): its tier is one of the tiers, or one of its
    territories lies in one of the territories (sub-territories
    included), or it has one of the tags, or its grade is one of the
    grades, or it is named among the distributors.  Only active
    distributors receive it, computed once at publication."""
    __name__ = 'distributor.policy'
    _rec_name = 'title'
    _dms_editable_states = {'draft'}
    _dms_workflow_fields = {
        'number', 'version', 'previous_version', 'next_versions',
        'recipients', 'published_by', 'published_at', 'closed_at',
        'reason', 'state_logs'}
    _dms_reason_states = {'withdrawn'}
    _dms_log_model = 'distributor.policy.log'

    _draft = {'readonly': Eval('state') != 'draft'}

    number = fields.Char("Number", readonly=True,
        help="Shared by the versions of a policy.")
    version = fields.Integer("Version", readonly=True, required=True)
    previous_version = fields.Many2One(
        'distributor.policy', "Previous Version", readonly=True,
        ondelete='RESTRICT',
        help="The policy this version replaces: publishing this one "
        "closes it.")
    next_versions = fields.One2Many(
        'distributor.policy', 'previous_version', "Newer Versions",
        readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False,
        states=_draft)
    title = fields.Char("Title", required=True, states=_draft)
    body = fields.Text("Body", states=_draft,
        help="Rich text shown to the recipients in the portal.")
    start_date = fields.Date("Start Date", required=True, states=_draft)
    end_date = fields.Date("End Date", states=_draft,
        help="Empty for a policy valid until it is closed.")
    tiers = fields.Many2Many(
        'distributor.policy-distributor.tier', 'policy', 'tier', "Tiers",
        states=_draft,
        help="Distributors of these tiers (OR with the other targets).")
    territories = fields.Many2Many(
        'distributor.policy-distributor.territory', 'policy', 'territory',
        "Territories", states=_draft,
        help="Distributors with a territory in these territories, "
        "sub-territories included (OR with the other targets).")
    categories = fields.Many2Many(
        'distributor.policy-party.category', 'policy', 'category', "Tags",
        states=_draft,
        help="Distributors with any of these tags (OR with the other "
        "targets).")
    grades = fields.MultiSelection(
        [g for g in GRADES if g[0]], "Grades", sort=False, states=_draft,
        help="Distributors of these grades (OR with the other targets).")
    distributors = fields.Many2Many(
        'distributor.policy-party.party', 'policy', 'party',
        "Named Distributors", states=_draft,
        domain=[('is_distributor', '=', True)],
        help="Distributors targeted by name, beside those of the other "
        "targets.")
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    published_at = fields.DateTime("Published At", readonly=True)
    published_by = fields.Many2One('res.user', "Published By", readonly=True)
    closed_at = fields.DateTime("Closed At", readonly=True)
    reason = fields.Text("Withdrawal Reason", readonly=True,
        states={'invisible': Eval('state') != 'withdrawn'})
    recipients = fields.One2Many(
        'distributor.policy.recipient', 'policy', "Recipients",
        readonly=True)
    recipients_not_viewed = fields.Function(fields.Many2Many(
            'distributor.policy.recipient', None, None, "Not Viewed",
            readonly=True),
        'get_recipients_pending')
    recipients_not_acknowledged = fields.Function(fields.Many2Many(
            'distributor.policy.recipient', None, None, "Not Acknowledged",
            readonly=True),
        'get_recipients_pending')
    recipient_count = fields.Function(
        fields.Integer("Recipients"), 'get_receipts')
    viewed_count = fields.Function(
        fields.Integer("Viewed"), 'get_receipts')
    viewed_rate = fields.Function(
        fields.Float("Read Rate", digits=(1, 4)), 'get_receipts')
    acknowledged_count = fields.Function(
        fields.Integer("Acknowledged"), 'get_receipts')
    acknowledged_rate = fields.Function(
        fields.Float("Acknowledgement Rate", digits=(1, 4)),
        'get_receipts')
    state_logs = fields.One2Many(
        'distributor.policy.log', 'document', "State History",
        readonly=True)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.previous_version, Index.Range())),
                })
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'published'),
            ('published', 'closed'),
            ('published', 'withdrawn'),
            }
        cls._buttons.update({
                'publish': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') != 'published',
                    'depends': ['state'],
                    },
                'withdraw': {
                    'invisible': Eval('state') != 'published',
                    'depends': ['state'],
                    },
                'new_version': {
                    'invisible': ~Eval('state').in_(['published', 'closed']),
                    'depends': ['state'],
                    },
                'remind': {
                    'invisible': Eval('state') != 'published',
                    'depends': ['state'],
                    },
                })
        cls.__rpc__.update({
                'dms_view_policy': RPC(readonly=False),
                'dms_acknowledge_policy': RPC(readonly=False),
                'dms_list_policies': RPC(),
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_version(cls):
        return 1

    @classmethod
    def default_kind(cls):
        return 'notice'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_start_date(cls):
        return Pool().get('ir.date').today()

    def get_rec_name(self, name):
        label = self.title or ''
        if self.number:
            label = f'{self.number} {label}'
        if self.version and self.version > 1:
            label += f' (v{self.version})'
        return label

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('title', operator, operand, *extra),
            ('number', operator, operand, *extra),
            ]

    @classmethod
    def preprocess_values(cls, mode, values):
        "A policy is numbered at creation (a new version keeps its number)"
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('number'):
            values['number'] = cls._dms_next_number()
        return values

    @classmethod
    def _dms_next_number(cls):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        with trusted():
            return Sequence(ModelData.get_id(
                    'distributor_policy', 'sequence_policy')).get()

    @classmethod
    def validate_fields(cls, policies, field_names):
        super().validate_fields(policies, field_names)
        cls.check_dates(policies, field_names)

    @classmethod
    def check_dates(cls, policies, field_names=None):
        if field_names and not (field_names & {'start_date', 'end_date'}):
            return
        for policy in policies:
            if (policy.end_date and policy.start_date
                    and policy.end_date < policy.start_date):
                raise PolicyError(gettext(
                        'distributor_policy.msg_policy_dates',
                        policy=policy.rec_name))

    # Receipts ----------------------------------------------------------

    @classmethod
    def receipts(cls, ids):
        """{policy id: (recipients, viewed, acknowledged)} in one query for
        all the policies"""
        Recipient = Pool().get('distributor.policy.recipient')
        recipient = Recipient.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        for sub_ids in grouped_slice(ids, IN_MAX):
            cursor.execute(*recipient.select(recipient.policy,
                    Count(recipient.id), Count(recipient.viewed_at),
                    Count(recipient.acknowledged_at),
                    where=recipient.policy.in_(list(sub_ids)),
                    group_by=[recipient.policy]))
            for policy, total, viewed, acknowledged in cursor:
                result[policy] = (total, viewed, acknowledged)
        return result

    @classmethod
    def get_receipts(cls, policies, names):
        ids = [p.id for p in policies]
        figures = cls.receipts(ids)
        result = {n: {} for n in names}
        for id_ in ids:
            total, viewed, acknowledged = figures.get(id_, (0, 0, 0))
            values = {
                'recipient_count': total,
                'viewed_count': viewed,
                'viewed_rate': round(viewed / total, 4) if total else 0.0,
                'acknowledged_count': acknowledged,
                'acknowledged_rate': (
                    round(acknowledged / total, 4) if total else 0.0),
                }
            for name in names:
                result[name][id_] = values[name]
        return result

    @classmethod
    def get_recipients_pending(cls, policies, names):
        Recipient = Pool().get('distributor.policy.recipient')
        ids = [p.id for p in policies]
        result = {n: {i: [] for i in ids} for n in names}
        for name in names:
            column = ('viewed_at' if name == 'recipients_not_viewed'
                else 'acknowledged_at')
            for sub_ids in grouped_slice(
                    ids, IN_MAX):
                for recipient in Recipient.search([
                            ('policy', 'in', list(sub_ids)),
                            (column, '=', None),
                            ]):
                    result[name][recipient.policy.id].append(recipient.id)
        return result

    # Targets -----------------------------------------------------------

    @property
    def has_targets(self):
        return any(getattr(self, f, None) for f in TARGET_FIELDS)

    def dms_compute_targets(self):
        """The ids of the active distributors the targets give: a
        distributor matching ANY target set (tier OR territory, with
        sub-territories, OR tag OR grade OR named)"""
        pool = Pool()
        Party = pool.get('party.party')
        Territory = pool.get('distributor.territory')
        criteria = []
        if self.tiers:
            criteria.append(('distributor_tier', 'in',
                    [t.id for t in self.tiers]))
        if self.territories:
            with trusted():
                area = Territory.area(self.territories)
            criteria.append(('territories', 'in', sorted(area)))
        if self.categories:
            criteria.append(('categories', 'in',
                    [c.id for c in self.categories]))
        if self.grades:
            criteria.append(('distributor_grade', 'in', list(self.grades)))
        if self.distributors:
            criteria.append(('id', 'in', [d.id for d in self.distributors]))
        if not criteria:
            return set()
        with trusted():
            parties = Party.search([
                    ('is_distributor', '=', True),
                    ('distributor_state', '=', 'active'),
                    ['OR'] + criteria,
                    ], order=[])
        return {p.id for p in parties}

    @classmethod
    def dms_targets(cls, policy):
        """The distributor ids of the policy: its recipients once published,
        the targets computed now before"""
        if policy.state == 'draft':
            return policy.dms_compute_targets()
        Recipient = Pool().get('distributor.policy.recipient')
        recipient = Recipient.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*recipient.select(recipient.distributor,
                where=recipient.policy == policy.id))
        return {d for d, in cursor}

    @classmethod
    def dms_policies_for(cls, party, kinds=None, date=None):
        """The published policies whose recipients include party, valid at
        date (today by default), of kinds (all by default)"""
        if date is None:
            date = Pool().get('ir.date').today()
        domain = [
            ('state', '=', 'published'),
            ('recipients.distributor', '=', int(party)),
            ('start_date', '<=', date),
            ['OR', ('end_date', '=', None), ('end_date', '>=', date)],
            ]
        if kinds is not None:
            domain.append(('kind', 'in', list(kinds)))
        with trusted():
            return cls.search(domain, order=[('start_date', 'ASC'),
                    ('id', 'ASC')])

    # Hooks of the other parts ------------------------------------------

    @classmethod
    def dms_check_publish(cls, policies):
        """Refuse to publish policies that are incomplete (raise): a
        policy without any target.  The other parts override it (with
        super()) for their kinds."""
        for policy in policies:
            if not policy.has_targets:
                raise PolicyError(gettext(
                        'distributor_policy.msg_policy_no_targets',
                        policy=policy.rec_name))

    @classmethod
    def dms_publish_hook(cls, policies):
        """Called by publish once the policies are published and their
        recipients recorded (trusted); the other parts override it (with
        super())"""

    @classmethod
    def dms_close_hook(cls, policies):
        """Called once the policies are closed or withdrawn (trusted); the
        other parts override it (with super())"""

    # Workflow ----------------------------------------------------------

    @classmethod
    @ModelView.button
    def publish(cls, policies):
        """Publish draft policies: compute their recipients (once),
        notify them in their portal inbox, close the versions they
        replace"""
        pool = Pool()
        Recipient = pool.get('distributor.policy.recipient')
        cls.dms_serialize(policies)
        policies = cls.browse(list(map(int, policies)))
        cls.dms_check_state(policies, {'draft'})
        cls.dms_check_publish(policies)
        targets = {}
        for policy in policies:
            targets[policy.id] = policy.dms_compute_targets()
            if not targets[policy.id]:
                raise PolicyError(gettext(
                        'distributor_policy.msg_policy_no_recipients',
                        policy=policy.rec_name))
        now = _now()
        with trusted():
            cls.write(list(policies), {
                    'published_at': now,
                    'published_by': Transaction().user or None,
                    })
            cls._published(policies)
            Recipient.create([{
                        'policy': policy.id,
                        'distributor': distributor,
                        'notified_at': now,
                        } for policy in policies
                    for distributor in sorted(targets[policy.id])])
            policies = cls.browse(list(map(int, policies)))
            cls._notify(policies, 'distributor_policy.msg_policy_message')
            cls.dms_publish_hook(policies)
            previous = [p.previous_version for p in policies
                if p.previous_version
                and p.previous_version.state == 'published']
            if previous:
                cls._close(previous)

    @classmethod
    @Workflow.transition('published')
    def _published(cls, policies):
        pass

    @classmethod
    def _notify(cls, policies, msg_id, recipients=None):
        """Post the policies to their recipients' portal inbox (all of
        them, or those of recipients): the subject is the policy's title
        (msg_id), the message links to the policy"""
        pool = Pool()
        Message = pool.get('distributor.message')
        Config = pool.get('ir.configuration')
        default = Config.get_language()
        items = []
        for policy in policies:
            rows = (recipients.get(policy.id, []) if recipients is not None
                else policy.recipients)
            for recipient in rows:
                party = recipient.distributor
                language = party.lang.code if party.lang else default
                with Transaction().set_context(language=language):
                    body = gettext(
                        'distributor_policy.msg_policy_message_body',
                        number=policy.number or '',
                        start=policy.start_date.isoformat(),
                        end=(policy.end_date.isoformat()
                            if policy.end_date else '-'),
                        url=f'/portal/policies/{policy.id}')
                items.append((party, msg_id, policy,
                        {'title': policy.title}, body))
        with trusted():
            Message.post(items)

    @classmethod
    @ModelView.button
    def close(cls, policies):
        "Close published policies (their term is over)"
        cls.dms_serialize(policies)
        policies = cls.browse(list(map(int, policies)))
        cls.dms_check_state(policies, {'published'})
        with trusted():
            cls._close(policies)

    @classmethod
    def _close(cls, policies):
        cls.write(list(policies), {'closed_at': _now()})
        cls._closed(policies)
        cls.dms_close_hook(cls.browse(list(map(int, policies))))

    @classmethod
    @Workflow.transition('closed')
    def _closed(cls, policies):
        pass

    @classmethod
    @ModelView.button_action('distributor_policy.wizard_policy_withdraw')
    def withdraw(cls, policies):
        pass

    @classmethod
    def withdraw_policies(cls, policies, reason):
        "Withdraw published policies with a reason (its wizard)"
        reason = cls.dms_check_reason(reason)
        cls.dms_serialize(policies)
        policies = cls.browse(list(map(int, policies)))
        cls.dms_check_state(policies, {'published'})
        with trusted():
            cls.write(list(policies), {
                    'reason': reason,
                    'closed_at': _now(),
                    })
            cls._withdrawn(policies)
            cls.dms_close_hook(cls.browse(list(map(int, policies))))

    @classmethod
    @Workflow.transition('withdrawn')
    def _withdrawn(cls, policies):
        pass

    @classmethod
    @ModelView.button
    def new_version(cls, policies):
        """A new draft of each published or closed policy, with its
        number, the next version and the same content and targets:
        publishing it closes the policy it replaces"""
        cls.dms_serialize(policies)
        policies = cls.browse(list(map(int, policies)))
        cls.dms_check_state(policies, {'published', 'closed'})
        drafts = cls.search([
                ('previous_version', 'in', [p.id for p in policies]),
                ('state', '=', 'draft'),
                ], limit=1)
        if drafts:
            draft, = drafts
            raise PolicyError(gettext(
                    'distributor_policy.msg_policy_draft_version',
                    policy=draft.previous_version.rec_name,
                    draft=draft.rec_name))
        news = []
        with trusted():
            for policy in policies:
                news.extend(cls.copy([policy], default={
                            'number': policy.number,
                            'version': (policy.version or 1) + 1,
                            'previous_version': policy.id,
                            }))
        return news

    @classmethod
    @ModelView.button
    def remind(cls, policies):
        """Post a reminder to the recipients of published policies that
        have not acknowledged them yet"""
        pool = Pool()
        Recipient = pool.get('distributor.policy.recipient')
        cls.dms_serialize(policies)
        policies = cls.browse(list(map(int, policies)))
        cls.dms_check_state(policies, {'published'})
        pending = {}
        for policy in policies:
            rows = Recipient.search([
                    ('policy', '=', policy.id),
                    ('acknowledged_at', '=', None),
                    ], order=[('id', 'ASC')])
            if not rows:
                raise PolicyError(gettext(
                        'distributor_policy.msg_policy_remind_nobody',
                        policy=policy.rec_name))
            pending[policy.id] = rows
        now = _now()
        with trusted():
            cls._notify(policies, 'distributor_policy.msg_policy_reminder',
                recipients=pending)
            for rows in pending.values():
                for row in rows:
                    row.reminded_at = now
                    row.reminder_count = (row.reminder_count or 0) + 1
                Recipient.save(rows)
        return sum(len(r) for r in pending.values())

    # Entry points ------------------------------------------------------

    @classmethod
    def _dms_recipient(cls, party, policy):
        """The recipient row of party for a policy it may see, else the
        404 of a missing policy"""
        Recipient = Pool().get('distributor.policy.recipient')
        rows = []
        if policy.state in VISIBLE_STATES:
            rows = Recipient.search([
                    ('policy', '=', policy.id),
                    ('distributor', '=', party.id),
                    ], limit=1)
        if not rows:
            raise RecordNotFound(gettext('distributor.msg_record_not_found',
                    model=cls.__names__()['model'], id=policy.id))
        return rows[0]

    @classmethod
    def _dms_record(cls, recipient, field):
        """Record the first view (viewed) or the acknowledgement of a
        recipient: the first one only, never overwritten (concurrent
        callers take turns)"""
        Recipient = Pool().get('distributor.policy.recipient')
        serialize(Recipient, [recipient])
        recipient = Recipient(recipient.id)
        now = _now()
        values = {}
        if field == 'acknowledged' and recipient.acknowledged_at is None:
            values.update({
                    'acknowledged_at': now,
                    'acknowledged_by': Transaction().user or None,
                    })
        if recipient.viewed_at is None:
            values.update({
                    'viewed_at': now,
                    'viewed_by': Transaction().user or None,
                    })
        if values:
            with trusted():
                Recipient.write([recipient], values)
        return Recipient(recipient.id)

    @classmethod
    def dms_policy_values(cls, policy, recipient, body=False):
        "A policy as its recipient sees it (a dict)"
        value = {
            'id': policy.id,
            'number': policy.number,
            'version': policy.version,
            'kind': policy.kind,
            'title': policy.title,
            'state': policy.state,
            'start_date': policy.start_date,
            'end_date': policy.end_date,
            'published_at': policy.published_at,
            'notified_at': recipient.notified_at,
            'viewed_at': recipient.viewed_at,
            'acknowledged_at': recipient.acknowledged_at,
            'viewed': recipient.viewed_at is not None,
            'acknowledged': recipient.acknowledged_at is not None,
            }
        if body:
            value['body'] = policy.body or ''
        return value

    @classmethod
    @entry_point(parties={'party': ['distributor']}, record={'policy': None})
    def dms_view_policy(cls, party, policy):
        """The policy as party, one of its recipients, sees it (with its
        body); the first call records the view (time and user), later
        calls leave it.  Any portal account of the distributor may call
        it, the view-only role included."""
        recipient = cls._dms_recipient(party, policy)
        recipient = cls._dms_record(recipient, 'viewed')
        return cls.dms_policy_values(policy, recipient, body=True)

    @classmethod
    @entry_point(parties={'party': ['distributor']}, record={'policy': None})
    def dms_acknowledge_policy(cls, party, policy):
        """Acknowledge (确认) a published policy for party, one of its
        recipients: the time and user of the first acknowledgement are
        kept (a second call changes nothing); it counts as a view too.
        Any portal account of the distributor but a view-only one may
        acknowledge."""
        recipient = cls._dms_recipient(party, policy)
        if policy.state != 'published':
            raise PolicyError(gettext(
                    'distributor_policy.msg_policy_acknowledge_state',
                    policy=policy.rec_name))
        recipient = cls._dms_record(recipient, 'acknowledged')
        return cls.dms_policy_values(policy, recipient, body=True)

    @classmethod
    @entry_point(parties={'party': ['distributor']})
    def dms_list_policies(cls, party, kinds=None):
        """The published and closed policies party received (without
        their body): not viewed first, then the newest; kinds filters"""
        Recipient = Pool().get('distributor.policy.recipient')
        domain = [
            ('distributor', '=', party.id),
            ('policy.state', 'in', VISIBLE_STATES),
            ]
        if kinds is not None:
            if not isinstance(kinds, (list, tuple)) or not set(kinds) <= {
                    k for k, _ in KINDS}:
                raise PolicyError(gettext(
                        'distributor_policy.msg_policy_kinds'))
            domain.append(('policy.kind', 'in', list(kinds)))
        rows = Recipient.search(domain)
        rows.sort(key=lambda r: (r.viewed_at is not None,
                r.policy.state != 'published',
                -(r.notified_at or dt.datetime.min).timestamp(),
                -r.policy.id))
        return [cls.dms_policy_values(r.policy, r) for r in rows]


class _Target(DocumentLine, ModelSQL):
    __slots__ = ()
    _dms_document = 'policy'
    policy = fields.Many2One(
        'distributor.policy', "Policy", required=True, ondelete='CASCADE')


class PolicyTier(_Target):
    "Policy - Tier"
    __name__ = 'distributor.policy-distributor.tier'
    tier = fields.Many2One(
        'distributor.tier', "Tier", required=True, ondelete='CASCADE')


class PolicyTerritory(_Target):
    "Policy - Territory"
    __name__ = 'distributor.policy-distributor.territory'
    territory = fields.Many2One(
        'distributor.territory', "Territory", required=True,
        ondelete='CASCADE')


class PolicyCategory(_Target):
    "Policy - Tag"
    __name__ = 'distributor.policy-party.category'
    category = fields.Many2One(
        'party.category', "Tag", required=True, ondelete='CASCADE')


class PolicyDistributor(_Target):
    "Policy - Distributor"
    __name__ = 'distributor.policy-party.party'
    party = fields.Many2One(
        'party.party', "Distributor", required=True, ondelete='CASCADE',
        domain=[('is_distributor', '=', True)])


class Recipient(ModelSQL, ModelView):
    """Policy Recipient

    A distributor a policy was published to (computed once at
    publication) with its read receipts: the first view and the explicit
    acknowledgement, each with time and user, and the reminders sent."""
    __name__ = 'distributor.policy.recipient'

    policy = fields.Many2One(
        'distributor.policy', "Policy", required=True, ondelete='CASCADE',
        readonly=True)
    distributor = fields.Many2One(
        'party.party', "Distributor", required=True, ondelete='RESTRICT',
        readonly=True)
    notified_at = fields.DateTime("Notified At", readonly=True)
    viewed_at = fields.DateTime("Viewed At", readonly=True)
    viewed_by = fields.Many2One('res.user', "Viewed By", readonly=True)
    acknowledged_at = fields.DateTime("Acknowledged At", readonly=True)
    acknowledged_by = fields.Many2One(
        'res.user', "Acknowledged By", readonly=True)
    reminded_at = fields.DateTime("Last Reminded At", readonly=True)
    reminder_count = fields.Integer("Reminders", readonly=True)
    viewed = fields.Function(fields.Boolean("Viewed"),
        'get_flag', searcher='search_flag')
    acknowledged = fields.Function(fields.Boolean("Acknowledged"),
        'get_flag', searcher='search_flag')
    policy_state = fields.Function(fields.Selection(
            STATES, "Policy State"), 'on_change_with_policy_state')

    def get_rec_name(self, name):
        return self.distributor.rec_name if self.distributor else ''

    @classmethod
    def search_rec_name(cls, name, clause):
        # (not _rec_name = 'distributor': Tryton would index an integer
        # column for similarity, which PostgreSQL refuses)
        _, operator, operand, *extra = clause
        return [('distributor.rec_name', operator, operand, *extra)]

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # no __access__ on the policy: Tryton ORs its rules with the
        # recipient's, which would open every recipient to the reps
        cls._sql_constraints += [
            ('policy_distributor_unique', Unique(t, t.policy, t.distributor),
                'distributor_policy.msg_recipient_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.distributor, Index.Range())),
                })
        cls._order = [('policy', 'DESC'), ('id', 'ASC')]

    @classmethod
    def default_reminder_count(cls):
        return 0

    def get_flag(self, name):
        return getattr(self, name + '_at') is not None

    @classmethod
    def search_flag(cls, name, clause):
        _, operator, value = clause
        column = name + '_at'
        if operator not in {'=', '!='}:
            return []
        if (operator == '=') == bool(value):
            return [(column, '!=', None)]
        return [(column, '=', None)]

    @fields.depends('policy', '_parent_policy.state')
    def on_change_with_policy_state(self, name=None):
        return self.policy.state if self.policy else None

    @classmethod
    def create(cls, vlist):
        transaction = Transaction()
        if transaction.user and transaction.check_access:
            if not is_trusted():
                raise PolicyError(gettext(
                        'distributor_policy.msg_recipient_readonly'))
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if external and mode in {'write', 'delete'}:
            raise PolicyError(gettext(
                    'distributor_policy.msg_recipient_readonly'))


class PolicyLog(DocumentLog, ModelSQL, ModelView):
    "State history of a policy"
    __name__ = 'distributor.policy.log'

    document = fields.Many2One(
        'distributor.policy', "Policy", required=True, ondelete='CASCADE',
        readonly=True)


class PolicyWithdraw(ReasonWizard):
    "Withdraw Policies"
    __name__ = 'distributor.policy.withdraw'
    _method = 'withdraw_policies'


class Message(metaclass=PoolMeta):
    __name__ = 'distributor.message'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['distributor.policy']
