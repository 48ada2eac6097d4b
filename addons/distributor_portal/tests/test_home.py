# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The home page, the inbox and the sales analytics, through the portal"""
from decimal import Decimal

from trytond.pool import Pool

from .tools import PortalTestCase, build_portal_world

API = '/portal/api/v1'
CENT = Decimal('0.01')


def _unread(party):
    Message = Pool().get('distributor.message')
    return Message.search_count([
            ('party', '=', party), ('read_at', '=', None)])


def _month_figures(party):
    """(month, sell_in, sell_out) of party this month, as root, from the
    records (line amounts)"""
    pool = Pool()
    Sale = pool.get('sale.sale')
    Order = pool.get('distributor.channel.order')
    today = pool.get('ir.date').today()
    start = today.replace(day=1)

    def this_month(date):
        return date is not None and start <= date <= today
    sell_in = sum((l.amount for s in Sale.search([
                    ('party', '=', party),
                    ('channel_state', 'in',
                        ['approved', 'shipped', 'received', 'done']),
                    ]) if this_month(s.sale_date)
            for l in s.lines if l.type == 'line'), Decimal(0))
    delivered = ['delivered', 'received', 'done']
    sell_in += sum((l.amount for o in Order.search([
                    ('buyer', '=', party), ('state', 'in', delivered)])
            if this_month(o.delivered_date) for l in o.lines), Decimal(0))
    sell_out = sum((l.amount for o in Order.search([
                    ('seller', '=', party), ('state', 'in', delivered)])
            if this_month(o.delivered_date) for l in o.lines), Decimal(0))
    return (today.strftime('%Y-%m'), sell_in.quantize(CENT),
        sell_out.quantize(CENT))


class PortalHomeTestCase(PortalTestCase):

    @classmethod
    def build_world(cls):
        return build_portal_world()

    def test_home_distributor(self):
        "d1's home counts what waits for it, as a search as root does"
        w = self.world

        def expected():
            pool = Pool()
            Order = pool.get('distributor.channel.order')
            Sale = pool.get('sale.sale')
            Alert = pool.get('distributor.stock.alert')
            return {
                'to_approve': Order.search_count([
                        ('seller', '=', w.d1), ('state', '=', 'submitted')]),
                'sales_to_receive': Sale.search_count([
                        ('party', '=', w.d1),
                        ('channel_state', '=', 'shipped')]),
                'stock_alerts': Alert.search_count([
                        ('party', '=', w.d1), ('state', '=', 'open')]),
                'unread': _unread(w.d1),
                }
        def unread_again():
            "D1's messages unread (a test before may have read them)"
            Message = Pool().get('distributor.message')
            Message.write(Message.search([('party', '=', w.d1)]),
                {'read_at': None})
        self.write(unread_again)
        counts = self.read(expected)
        # the store's and the downstream's submitted orders
        self.assertGreaterEqual(counts['to_approve'], 2)
        self.assertGreaterEqual(counts['sales_to_receive'], 1)
        self.assertGreaterEqual(counts['stock_alerts'], 1)
        self.assertGreaterEqual(counts['unread'], 1)

        client = self.client('d1-view@example.com', api=True)
        status, home = client.api('GET', API + '/home')
        self.assertEqual(status, 200, home)
        self.assertEqual(home['to_approve']['count'], counts['to_approve'])
        self.assertEqual(len(home['to_approve']['items']),
            min(counts['to_approve'], 5))
        self.assertEqual(home['sales_to_receive']['count'],
            counts['sales_to_receive'])
        self.assertEqual(home['stock_alerts']['count'],
            counts['stock_alerts'])
        self.assertEqual(home['unread'], counts['unread'])
        month, sell_in, sell_out = self.read(lambda: _month_figures(w.d1))
        self.assertEqual(Decimal(home['month']['sell_out']), sell_out)
        self.assertEqual(Decimal(home['month']['sell_in']), sell_in)
        self.assertGreater(sell_out, 0)

        client = self.client('d1@example.com')
        response = client.get('/portal/')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertIn('id="tile-to-approve"', html)
        self.assertRegex(html, r'id="tile-to-approve">\s*<span class="value">'
            + str(counts['to_approve']) + '<')

    def test_home_store(self):
        "s1's home: its deliveries to receive; no sales page for a store"
        w = self.world

        def expected():
            Order = Pool().get('distributor.channel.order')
            return Order.search_count([
                    ('buyer', '=', w.s1), ('state', '=', 'delivered')])
        count = self.read(expected)
        self.assertGreaterEqual(count, 1)
        client = self.client('s1@example.com')
        response = client.get('/portal/')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertNotIn('tile-to-approve', html)
        self.assertRegex(html, r'id="tile-orders-to-receive">\s*'
            r'<span class="value">' + str(count) + '<')
        self.assertEqual(client.get('/portal/sales').status_code, 403)
        client = self.client('s1@example.com', api=True)
        status, home = client.api('GET', API + '/home')
        self.assertEqual(status, 200, home)
        self.assertEqual(home['orders_to_receive']['count'], count)
        self.assertNotIn('to_approve', home)
        self.assertNotIn('sell_out', home['month'])
        status, body = client.api('GET', API + '/sales')
        self.assertEqual(status, 403, body)

    def test_messages(self):
        "Opening a message marks it read; another party's is a 404"
        w = self.world
        before = self.read(lambda: _unread(w.d1))
        self.assertGreaterEqual(before, 2)
        client = self.client('d1-view@example.com')
        response = client.get('/portal/messages')
        self.assertEqual(response.status_code, 200)
        html = response.get_data(as_text=True)
        self.assertEqual(html.count('list-item unread'), min(before, 50))
        self.assertIn(f'data-message="{w.own.message}"', html)
        self.assertNotIn(f'data-message="{w.foreign.message}"', html)

        # opening one
        response = client.get(f'/portal/messages/{w.own.message}')
        self.assertEqual(response.status_code, 200)
        self.assertIn(f'<span class="badge" id="unread-count">{before - 1}<',
            response.get_data(as_text=True))

        def read_at(message):
            return Pool().get('distributor.message')(message).read_at
        self.assertIsNotNone(self.read(lambda: read_at(w.own.message)))
        self.assertEqual(self.read(lambda: _unread(w.d1)), before - 1)
        # opening it again changes nothing
        client.get(f'/portal/messages/{w.own.message}')
        self.assertEqual(self.read(lambda: _unread(w.d1)), before - 1)

        # another party's message: the same 404 as a missing one
        foreign_unread = self.read(lambda: _unread(w.d2))
        self.assertGreaterEqual(foreign_unread, 1)
        self.assertIsNone(self.read(lambda: read_at(w.foreign.message)))
        api = self.client('d1-view@example.com', api=True)
        missing = api.api('GET', API + '/messages/999999')
        self.assertEqual(missing[0], 404)
        for method, path in [
                ('GET', f'/messages/{w.foreign.message}'),
                ('POST', f'/messages/{w.foreign.message}/read'),
                ]:
            self.assertEqual(api.api(method, API + path), missing)
        response = client.get(f'/portal/messages/{w.foreign.message}')
        self.assertEqual(response.status_code, 404)
        self.assertEqual(client.post(
                f'/portal/messages/{w.foreign.message}/read').status_code,
            404)
        self.assertIsNone(self.read(lambda: read_at(w.foreign.message)))
        self.assertEqual(self.read(lambda: _unread(w.d2)), foreign_unread)

        # the API's list and mark all read
        status, body = api.api('GET', API + '/messages')
        self.assertEqual(status, 200, body)
        self.assertEqual(body['unread'], before - 1)
        self.assertEqual(sum(1 for m in body['items'] if not m['read']),
            before - 1)
        status, body = api.api('POST', API + '/messages/read-all')
        self.assertEqual((status, body), (200, {'marked': before - 1}))
        self.assertEqual(self.read(lambda: _unread(w.d1)), 0)
        self.assertEqual(self.read(lambda: _unread(w.d2)), foreign_unread)
        status, body = api.api('GET', API + '/messages?unread=true')
        self.assertEqual((status, body['total'], body['unread']),
            (200, 0, 0))

    def test_sales(self):
        "The month's sell-in and sell-out are the records' line amounts"
        w = self.world
        month, sell_in, sell_out = self.read(lambda: _month_figures(w.d1))
        client = self.client('d1-view@example.com', api=True)
        status, body = client.api('GET', API + '/sales?by=month')
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body['rows']), 12)
        row = body['rows'][-1]
        self.assertEqual(row['month'], month)
        self.assertEqual(Decimal(row['sell_in']), sell_in)
        self.assertEqual(Decimal(row['sell_out']), sell_out)
        self.assertGreater(sell_out, 0)

        # by product and by store add up to the same sell-out (the world's
        # documents are all of this month)
        status, body = client.api('GET', API + '/sales?by=product')
        self.assertEqual(status, 200, body)
        self.assertEqual(sum(Decimal(r['sell_out']) for r in body['rows']),
            sell_out)
        status, body = client.api('GET', API + '/sales?by=store')
        self.assertEqual(status, 200, body)
        self.assertEqual(sum(Decimal(r['sell_out']) for r in body['rows']),
            sell_out)
        self.assertIn(w.s1, [r['party']['id'] for r in body['rows']])
        self.assertEqual(client.api('GET', API + '/sales?by=year')[0], 400)

        client = self.client('d1@example.com')
        for by in ['month', 'product', 'store']:
            response = client.get(f'/portal/sales?by={by}')
            self.assertEqual(response.status_code, 200)
            html = response.get_data(as_text=True)
            self.assertIn('id="sales-table"', html)
            self.assertIn('/portal/static/sales.js', html)
