# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The statements in the portal, through HTTP as a phone and an API client
do: the list and detail as d1's roles; a line disputed, answered by the
accountant, then confirmed; store statements generated and sent by d1,
confirmed (or disputed then answered) by s1, never seen by s2 nor by
another distributor; other parties' ids answer 404 like missing ones; the
view role reads but is refused writes; bad input refused with its code
and nothing written; the PDF and Excel downloads; the receivables tab;
the OpenAPI document; the inbox shows the statement and the reminders"""
import datetime as dt
import io
import re
import urllib.parse
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pypdf

from trytond.pool import Pool
from trytond.transaction import Transaction

from distributor_portal import web
from distributor_portal.tests.tools import (
    PortalTestCase, build_portal_world)

from .test_statement import backdate, invoice, movement

API = web.API
D = Decimal
MISSING = 2 ** 31 - 1
# the message of the error page
MESSAGE = re.compile(r'<p class="message">(.*?)</p>', re.S)


def money(value):
    return f'{D(value).quantize(D("0.01")):,}'


class PortalStatementTestCase(PortalTestCase):
    "The statements' pages and endpoints"
    modules = ['distributor_account']

    @classmethod
    def build_world(cls):
        world = build_portal_world()
        pool = Pool()
        Account = pool.get('account.account')
        Party = pool.get('party.party')
        Statement = pool.get('distributor.account.statement')
        Payment = pool.get('distributor.store.payment')
        with Transaction().set_context(company=world.company):
            today = pool.get('ir.date').today()
            start, end = dt.date(today.year, 4, 1), dt.date(today.year, 6, 30)
            receivable, = Account.search([('type.receivable', '=', True),
                    ('closed', '!=', True)], limit=1)
            deposit, = Account.search([('type.deposit', '=', True)],
                limit=1)
            d1, d2 = world.d1, world.d2
            # opening 500, then an invoice, a payment, a deposit received
            invoice(d1, 500, dt.date(today.year, 3, 10))
            early = movement(d1, D(100), dt.date(today.year, 3, 20),
                receivable)
            backdate(early, dt.date(today.year, 3, 20))
            invoice(d1, 3000, dt.date(today.year, 4, 10))
            invoice(d1, 1000, dt.date(today.year, 5, 2))
            payment = movement(d1, D(1200), dt.date(today.year, 4, 25),
                receivable)
            backdate(payment, dt.date(today.year, 4, 25))
            movement(d1, D(300), dt.date(today.year, 5, 5), deposit)
            invoice(d2, 999, dt.date(today.year, 4, 12))
            statements, _ = Statement.generate('distributor',
                Party.browse([d1, d2]), start, end)
            # d1's first quarter: the one it disputes in the tests
            first, _ = Statement.generate('distributor', [Party(d1)],
                dt.date(today.year, 1, 1), dt.date(today.year, 3, 31))
            Statement.send(statements + first)
            st1, st2 = statements
            st3, = first
            assert st1.party.id == d1
            # a store payment of s1 this month (its store statement)
            Payment.dms_record_payment(Party(d1), Party(world.s1), '80',
                today, 'cash', 'R-1')
            return SimpleNamespace(**vars(world), start=start, end=end,
                today=today, st1=st1.id, st2=st2.id, st3=st3.id)

    # helpers ------------------------------------------------------------

    def statement(self, statement):
        "(state, number of messages, disputed line ids) of a statement"
        def read():
            record = Pool().get('distributor.account.statement')(statement)
            return (record.state, len(record.messages),
                {l.id for l in record.lines if l.disputed})
        return self.read(read)

    def figures(self, statement):
        def read():
            record = Pool().get('distributor.account.statement')(statement)
            return SimpleNamespace(number=record.number,
                opening=record.opening_balance,
                closing=record.closing_balance,
                open=record.open_amount,
                lines=[(l.id, l.kind, l.debit, l.credit, l.balance)
                    for l in record.lines])
        return self.read(read)

    # tests --------------------------------------------------------------

    def test_list_detail_and_reach(self):
        """Every role of d1 reads its statements (not d2's); the detail
        shows the figures and lines with the running balance; other
        parties' ids answer 404 like missing ones; the view role may not
        confirm"""
        w = self.world
        figures = self.figures(w.st1)
        self.assertEqual(figures.opening, D(400))
        self.assertEqual(figures.closing, D(400 + 3000 + 1000 - 1200 - 300))
        viewer = self.client('d1-view@example.com')
        response = viewer.get('/portal/statements')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn(f'data-statement="{w.st1}"', html)
        self.assertIn(f'data-statement="{w.st3}"', html)
        self.assertNotIn(f'data-statement="{w.st2}"', html)
        self.assertIn(money(figures.closing), html)
        # the filters: by number, by a document number, by a period
        html = viewer.get('/portal/statements?' + urllib.parse.urlencode(
                {'number': figures.number})).get_data(as_text=True)
        self.assertIn(f'data-statement="{w.st1}"', html)
        html = viewer.get('/portal/statements?number=NO-SUCH-NUMBER'
            ).get_data(as_text=True)
        self.assertNotIn(f'data-statement="{w.st1}"', html)
        self.assertIn('id="no-statements"', html)
        html = viewer.get(f'/portal/statements?start={w.end.year}-07-01'
            ).get_data(as_text=True)
        self.assertNotIn(f'data-statement="{w.st1}"', html)
        response = viewer.get(f'/portal/statements/{w.st1}')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn('data-state="sent"', html)
        self.assertIn(f'id="closing-balance">{money(figures.closing)}',
            html)
        for line_id, kind, debit, credit, balance in figures.lines:
            self.assertIn(f'data-line="{line_id}"', html)
            self.assertIn(money(balance), html)
        self.assertIn('data-kind="deposit"', html)
        self.assertIn('data-kind="payment"', html)
        # the view role reads but has nothing to do
        self.assertNotIn('id="confirm-form"', html)
        self.assertNotIn('id="dispute-form"', html)
        self.assertEqual(viewer.post(
                f'/portal/statements/{w.st1}/confirm').status_code, 403)
        api_viewer = self.client('d1-view@example.com', api=True)
        status, body = api_viewer.api('POST',
            f'{API}/statements/{w.st1}/confirm', {})
        self.assertEqual((status, body['code']), (403, 'forbidden'))
        self.assertEqual(self.statement(w.st1)[0], 'sent')
        # the admin and finance roles may
        finance = self.client('d1-finance@example.com')
        html = finance.get(f'/portal/statements/{w.st1}').get_data(
            as_text=True)
        self.assertIn('id="confirm-form"', html)
        self.assertIn('id="dispute-form"', html)
        self.assertIn(f'name="line-{figures.lines[0][0]}"', html)
        # the API: list (paginated) and detail
        status, body = api_viewer.api('GET', f'{API}/statements')
        self.assertEqual(status, 200, body)
        # newest first
        self.assertEqual([s['id'] for s in body['items']], [w.st1, w.st3])
        self.assertEqual(body['items'][0]['closing_balance'],
            str(figures.closing))
        status, body = api_viewer.api('GET', f'{API}/statements?'
            + urllib.parse.urlencode({'start': w.start.isoformat()}))
        self.assertEqual([s['id'] for s in body['items']], [w.st1])
        status, body = api_viewer.api('GET', f'{API}/statements/{w.st1}')
        self.assertEqual(status, 200, body)
        self.assertEqual([l['balance'] for l in body['lines']],
            [str(l[4]) for l in figures.lines])
        # others: d2, d1's downstream d3 and store s1 see nothing of it
        for email in ['d2@example.com', 'd3@example.com', 's1@example.com']:
            other = self.client(email)
            pages = [other.get(f'/portal/statements/{i}')
                for i in (w.st1, MISSING)]
            self.assertEqual([p.status_code for p in pages], [404, 404],
                email)
            self.assertEqual(*[MESSAGE.search(p.get_data(as_text=True)
                        ).group(1) for p in pages])
            for suffix in ['pdf', 'xlsx']:
                self.assertEqual(other.get(
                        f'/portal/statements/{w.st1}/{suffix}').status_code,
                    404)
            other_api = self.client(email, api=True)
            answers = [other_api.api('GET', f'{API}/statements/{i}')
                for i in (w.st1, MISSING)]
            self.assertEqual(answers[0], answers[1])
            self.assertEqual(answers[0][0], 404)
            answers = [other_api.api('POST',
                    f'{API}/statements/{i}/confirm', {})
                for i in (w.st1, MISSING)]
            self.assertEqual(answers[0], answers[1])
            self.assertEqual(answers[0][0], 404)
        self.assertEqual(self.statement(w.st1)[0], 'sent')

    def test_dispute_resolve_confirm(self):
        """d1 disputes a line (the bad attempts refused, nothing written),
        the accountant answers, d1 confirms"""
        w = self.world
        figures = self.figures(w.st3)
        self.assertEqual([l[1] for l in figures.lines],
            ['invoice', 'payment'])
        line = figures.lines[1][0]
        client = self.client('d1-finance@example.com')
        client.get(f'/portal/statements/{w.st3}')
        # nothing to dispute: refused, the page shown again
        response = client.post(f'/portal/statements/{w.st3}/dispute',
            {'comment': '  ', f'line-{line}': ''})
        self.assertEqual(response.status_code, 422)
        self.assertIn('id="statement-error"', response.get_data(
                as_text=True))
        self.assertEqual(self.statement(w.st3), ('sent', 0, set()))
        # the API: no comment, an unknown line, a line of another statement
        api = self.client('d1-finance@example.com', api=True)
        status, body = api.api('POST', f'{API}/statements/{w.st3}/dispute',
            {})
        self.assertEqual((status, body['code']), (422, 'statement'), body)
        status, body = api.api('POST', f'{API}/statements/{w.st3}/dispute',
            {'lines': [{'line': 12345678, 'comment': "Which?"}]})
        self.assertEqual((status, body['code']), (404, 'not_found'), body)
        status, body = api.api('POST', f'{API}/statements/{w.st3}/dispute',
            {'lines': [{'line': line, 'comment': ''}]})
        self.assertEqual((status, body['code']), (400, 'invalid_input'),
            body)
        status, body = api.api('POST', f'{API}/statements/{w.st3}/dispute',
            {'comment': 'x', 'lines': [{'line': 'one', 'comment': 'y'}]})
        self.assertEqual((status, body['code']), (400, 'invalid_input'),
            body)
        self.assertEqual(self.statement(w.st3), ('sent', 0, set()))
        # through the page: a comment on a line and one for the statement
        client.get(f'/portal/statements/{w.st3}')
        response = client.post(f'/portal/statements/{w.st3}/dispute', {
                'comment': "Please check April",
                f'line-{line}': "We paid 1,500, not 1,200",
                })
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:500])
        self.assertEqual(self.statement(w.st3), ('disputed', 2, {line}))
        html = client.get(f'/portal/statements/{w.st3}').get_data(
            as_text=True)
        self.assertIn('data-state="disputed"', html)
        self.assertRegex(html, rf'data-line="{line}"[^>]*data-disputed="1"')
        self.assertIn("We paid 1,500, not 1,200", html)
        self.assertIn("Please check April", html)
        # disputed: nothing to confirm until the answer
        self.assertNotIn('id="confirm-form"', html)
        status, body = api.api('POST', f'{API}/statements/{w.st3}/confirm',
            {})
        self.assertEqual((status, body['code']), (422, 'statement'), body)
        # a comment in the conversation
        response = client.post(f'/portal/statements/{w.st3}/comment',
            {'body': "The bank slip is attached to our e-mail"})
        self.assertEqual(response.status_code, 303)
        # the accountant answers
        self.write(lambda: Pool().get('distributor.account.statement'
                ).resolved([Pool().get('distributor.account.statement')(
                        w.st3)], "We checked: 1,200 was received"))
        html = client.get(f'/portal/statements/{w.st3}').get_data(
            as_text=True)
        self.assertIn('data-state="resolved"', html)
        self.assertIn("We checked: 1,200 was received", html)
        self.assertIn('id="confirm-form"', html)
        # confirmed (twice: the same key answers the first answer again)
        headers = {'Idempotency-Key': 'confirm-st3-0001'}
        for _ in range(2):
            status, body = api.api('POST',
                f'{API}/statements/{w.st3}/confirm',
                {'comment': "Agreed"}, headers=headers)
            self.assertEqual((status, body['state']), (200, 'confirmed'),
                body)
        self.assertEqual(self.statement(w.st3)[:2], ('confirmed', 5))
        html = client.get(f'/portal/statements/{w.st3}').get_data(
            as_text=True)
        self.assertIn('data-state="confirmed"', html)
        self.assertIn('id="confirmed-at"', html)
        self.assertNotIn('id="dispute-form"', html)
        # confirmed: no more dispute
        status, body = api.api('POST', f'{API}/statements/{w.st3}/dispute',
            {'comment': "Too late"})
        self.assertEqual((status, body['code']), (422, 'statement'), body)
        self.assertEqual(self.statement(w.st3)[:2], ('confirmed', 5))

    def test_store_statements(self):
        """d1 generates and sends its stores' statements; s1 disputes,
        d1 answers, s1 confirms; s2 and d2 never see s1's"""
        w = self.world
        today = w.today
        start = today.replace(day=1).isoformat()
        Statement = 'distributor.account.statement'

        def count():
            return self.read(lambda: Pool().get(Statement).search_count(
                    [('kind', '=', 'store')]))
        api = self.client('d1-finance@example.com', api=True)
        # an end before its start: refused, nothing written
        status, body = api.api('POST', f'{API}/statements/stores',
            {'start': today.isoformat(),
                'end': (today - dt.timedelta(days=2)).isoformat()})
        self.assertEqual((status, body['code']), (422, 'statement'), body)
        status, body = api.api('POST', f'{API}/statements/stores',
            {'start': start, 'end': 'yesterday'})
        self.assertEqual((status, body['code']), (400, 'invalid_input'))
        self.assertEqual(count(), 0)
        # a store may not generate
        s1_api = self.client('s1@example.com', api=True)
        status, body = s1_api.api('POST', f'{API}/statements/stores',
            {'start': start, 'end': today.isoformat()})
        self.assertEqual(status, 403, body)
        # d1 through its page: generated and sent
        client = self.client('d1-finance@example.com')
        client.get('/portal/statements/stores')
        response = client.post('/portal/statements/stores', {
                'start': start, 'end': today.isoformat(), 'send': '1'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:500])
        html = client.get('/portal/statements/stores').get_data(
            as_text=True)
        ids = [int(i) for i in re.findall(r'data-statement="(\d+)"', html)]
        self.assertGreaterEqual(len(ids), 2)
        status, body = api.api('GET',
            f'{API}/statements?side=issuer&counterpart={w.s1}')
        self.assertEqual(status, 200, body)
        (mine,) = body['items']
        self.assertEqual((mine['state'], mine['role']), ('sent', 'issuer'))
        self.assertEqual(D(mine['total_credit']), D(80))
        s1_statement = mine['id']
        others = [i for i in ids if i != s1_statement]
        # the brand's statement of d1 is not among them
        self.assertNotIn(w.st1, ids)
        # s1 sees its own, not s2's; d2 sees none of them
        s1 = self.client('s1@example.com')
        html = s1.get('/portal/statements').get_data(as_text=True)
        self.assertEqual(re.findall(r'data-statement="(\d+)"', html),
            [str(s1_statement)])
        for other in others:
            self.assertEqual(s1.get(f'/portal/statements/{other}'
                    ).status_code, 404)
        self.assertEqual(s1.get('/portal/statements/stores').status_code,
            403)
        d2 = self.client('d2@example.com', api=True)
        self.assertEqual(d2.api('GET',
                f'{API}/statements/{s1_statement}')[0], 404)
        # d1 may not confirm its store's statement (not its own)
        status, body = api.api('POST',
            f'{API}/statements/{s1_statement}/confirm', {})
        self.assertEqual(status, 404, body)
        # s1 disputes, d1 answers from the page, s1 confirms
        html = s1.get(f'/portal/statements/{s1_statement}').get_data(
            as_text=True)
        self.assertIn('data-role="party"', html)
        response = s1.post(f'/portal/statements/{s1_statement}/dispute',
            {'comment': "The payment R-1 was 100"})
        self.assertEqual(response.status_code, 303)
        html = client.get(f'/portal/statements/{s1_statement}').get_data(
            as_text=True)
        self.assertIn('id="resolve-form"', html)
        self.assertIn("The payment R-1 was 100", html)
        response = client.post(f'/portal/statements/{s1_statement}/resolve',
            {'answer': ''})
        self.assertEqual(response.status_code, 422)
        response = client.post(f'/portal/statements/{s1_statement}/resolve',
            {'answer': "The receipt says 80"})
        self.assertEqual(response.status_code, 303)
        status, body = s1_api.api('POST',
            f'{API}/statements/{s1_statement}/confirm', {})
        self.assertEqual((status, body['state']), (200, 'confirmed'), body)
        html = s1.get(f'/portal/statements/{s1_statement}').get_data(
            as_text=True)
        self.assertIn('data-state="confirmed"', html)
        self.assertIn("The receipt says 80", html)
        # a draft of the issuer is sent from its page (generated again)
        status, body = api.api('POST', f'{API}/statements/stores',
            {'start': start, 'end': today.isoformat(),
                'stores': [w.s2]})
        self.assertEqual(status, 200, body)
        (draft,) = body['items']
        self.assertEqual(draft['state'], 'draft')
        self.assertEqual(s1.get(f'/portal/statements/{draft["id"]}'
                ).status_code, 404)
        status, body = api.api('POST',
            f'{API}/statements/{draft["id"]}/send')
        self.assertEqual((status, body['state']), (200, 'sent'), body)

    def test_downloads(self):
        "The PDF and the workbook of a statement carry its numbers"
        w = self.world
        figures = self.figures(w.st1)
        client = self.client('d1-view@example.com')
        response = client.get(f'/portal/statements/{w.st1}/pdf')
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.mimetype, 'application/pdf')
        self.assertIn('attachment', response.headers['Content-Disposition'])
        self.assertTrue(response.headers['Content-Disposition'].endswith(
                '.pdf'))
        content = response.get_data()
        self.assertTrue(content.startswith(b'%PDF'))
        text = '\n'.join(p.extract_text()
            for p in pypdf.PdfReader(io.BytesIO(content)).pages)
        self.assertIn(money(figures.closing), text)
        self.assertIn(figures.number, text)
        response = client.get(f'/portal/statements/{w.st1}/xlsx')
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers['Content-Disposition'].endswith(
                '.xlsx'))
        workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
        self.assertEqual(workbook.sheetnames, [figures.number])
        values = {D(str(c.value)).quantize(D('0.01'))
            for row in workbook.worksheets[0].iter_rows() for c in row
            if isinstance(c.value, (int, float, D))
            and not isinstance(c.value, bool)}
        self.assertIn(figures.closing, values)

    def test_receivables_inbox_openapi(self):
        """The receivables tab (finance), the deposits of the statements,
        the statement and the reminders in the inbox, the endpoints in
        the OpenAPI document"""
        w = self.world
        finance = self.client('d1-finance@example.com')
        response = finance.get('/portal/receivables')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn('id="balance"', html)
        self.assertIn('data-kind="deposit"', html)
        self.assertIn(money(300), html)
        self.assertIn('data-bucket="over_90"', html)
        self.assertIn('href="/portal/receivables"', finance.get(
                '/portal/statements').get_data(as_text=True))
        viewer = self.client('d1-view@example.com')
        self.assertEqual(viewer.get('/portal/receivables').status_code, 403)
        self.assertNotIn('href="/portal/receivables"', viewer.get(
                '/portal/statements').get_data(as_text=True))
        self.assertEqual(self.client('s1@example.com').get(
                '/portal/receivables').status_code, 403)
        api = self.client('d1-finance@example.com', api=True)
        status, summary = api.api('GET', f'{API}/receivables')
        self.assertEqual(status, 200, summary)
        self.assertEqual(summary['party'], w.d1)
        status, body = api.api('GET', f'{API}/receivables/instalments')
        self.assertEqual(status, 200, body)
        self.assertTrue(body['items'])
        # the invoices of the world fall due today (they were dated back)
        self.assertLessEqual({i['status'] for i in body['items']},
            {'due', 'overdue', 'credit'})
        self.assertIn('soon', {i['reminder'] for i in body['items']})
        status, body = api.api('GET', f'{API}/receivables/deposits')
        self.assertEqual(status, 200, body)
        self.assertEqual([(d['kind'], d['amount']) for d in body['items']],
            [('deposit', '300.00')])
        # the inbox: the statement sent, then the reminders
        self.write(lambda: Pool().get('distributor.account.reminder'
                ).send_reminders())
        html = viewer.get('/portal/messages').get_data(as_text=True)
        subjects = self.read(lambda: [m.subject for m in Pool().get(
                    'distributor.message').search(
                    [('party', '=', w.d1)])])
        self.assertGreaterEqual(len(subjects), 2)
        for subject in subjects:
            self.assertIn(subject, html)
        # the OpenAPI document
        status, doc = api.api('GET', f'{API}/openapi.json')
        self.assertEqual(status, 200)
        paths = doc['paths']
        for path, method in [
                ('/statements', 'get'),
                ('/statements/{statement}', 'get'),
                ('/statements/{statement}/confirm', 'post'),
                ('/statements/{statement}/dispute', 'post'),
                ('/statements/{statement}/messages', 'post'),
                ('/statements/stores', 'post'),
                ('/statements/{statement}/send', 'post'),
                ('/statements/{statement}/resolve', 'post'),
                ('/receivables', 'get'),
                ('/receivables/instalments', 'get'),
                ('/receivables/deposits', 'get')]:
            self.assertIn(method, paths.get(API + path, {}), path)
        dispute = paths[API + '/statements/{statement}/dispute']['post']
        self.assertIn('lines', dispute['requestBody']['content'][
                'application/json']['schema']['properties'])
