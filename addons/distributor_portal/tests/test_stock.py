# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The stock pages and endpoints of a distributor: levels, alerts,
transfers, counts and scans, with their roles and isolation"""
from trytond.pool import Pool
from trytond.transaction import Transaction

from .tools import PortalTestCase, build_portal_world

API = '/portal/api/v1/stock'


class PortalStockTestCase(PortalTestCase):

    @classmethod
    def build_world(cls):
        "The portal world and a transfer shipped from D3 to D1"
        from distributor_stock.tests.tools import move_stock
        world = build_portal_world()
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        Transfer = pool.get('distributor.stock.transfer')
        with Transaction().set_context(company=world.company):
            d1, d3 = Party.browse([world.d1, world.d3])
            p1 = Product(world.products.p1)
            move_stock(d3, p1, 20)
            transfer, = Transfer.create([{
                        'from_party': d3.id, 'to_party': d1.id,
                        'lines': [('create', [{
                                        'product': p1.id, 'quantity': 5}])],
                        }])
            Transfer.request([transfer])
            Transfer.approve([transfer])
            Transfer.giver_approve([transfer], d3)
            Transfer.ship([transfer])
        world.incoming = transfer.id
        world.p1_code = p1.code
        return world

    def _transfers(self):
        def count():
            Transfer = Pool().get('distributor.stock.transfer')
            return Transfer.search_count([])
        return self.read(count)

    def _counts(self):
        def count():
            Inventory = Pool().get('stock.inventory')
            return Inventory.search_count([])
        return self.read(count)

    def test_levels(self):
        "The levels are the model's, per product and lot, filtered by text"
        w = self.world
        client = self.client('d1-stock@example.com')

        def levels():
            pool = Pool()
            Level = pool.get('distributor.stock.level')
            Party = pool.get('party.party')
            return {(p, l): q for (_, p, l), q in Level.levels(
                    [Party(w.d1)]).items()}
        expected = self.read(levels)
        self.assertTrue(expected)
        status, body = client.api('GET', f'{API}/levels')
        self.assertEqual(status, 200, body)
        self.assertEqual(body['total'], len(expected))
        self.assertEqual({(i['product'], i['lot']): i['quantity']
                for i in body['items']}, expected)
        p1 = [i for i in body['items'] if i['product'] == w.products.p1]
        self.assertTrue(p1)
        status, body = client.api('GET', f'{API}/levels?q=nothing-like-it')
        self.assertEqual((status, body['total']), (200, 0))
        response = client.get('/portal/stock?q=cola')
        self.assertEqual(response.status_code, 200)
        text = response.get_data(as_text=True)
        self.assertIn(f'data-product="{w.products.p1}"', text)
        self.assertIn('data-quantity="%s"' % expected[
                (w.products.p1, None)], text)

    def test_alerts(self):
        "The open alerts and their suggestions are listed"
        w = self.world
        client = self.client('d1-stock@example.com')


        def open_alerts(party):
            "The party's open alerts (confirming a count renews them)"
            Alert = Pool().get('distributor.stock.alert')
            return {a.id for a in Alert.search([
                        ('party', '=', party), ('state', '=', 'open')])}
        own, foreign = self.read(lambda: (
                open_alerts(w.d1), open_alerts(w.d2)))
        self.assertTrue(own)
        self.assertTrue(foreign)
        status, body = client.api('GET', f'{API}/alerts')
        self.assertEqual(status, 200, body)
        self.assertEqual({a['id'] for a in body['items']}, own)
        response = client.get('/portal/stock/alerts')
        self.assertEqual(response.status_code, 200)
        for alert in own:
            self.assertIn(f'data-alert="{alert}"',
                response.get_data(as_text=True))
        # ordering from the alerts is the orders role's
        status, body = client.api('POST', f'{API}/alerts/order',
            {'alerts': [w.own.alert]})
        self.assertEqual(status, 403, body)

    def test_transfer_request(self):
        "A transfer to the downstream is requested and listed"
        w = self.world
        client = self.client('d1-stock@example.com', api=True)
        status, body = client.api('POST', f'{API}/transfers', {
                'direction': 'out', 'counterpart': w.d3,
                'lines': [{'product': 'P1', 'quantity': 3}],
                'note': 'for the fair'})
        self.assertEqual(status, 201, body)
        self.assertEqual(body['state'], 'requested')
        self.assertEqual((body['from_party'], body['to_party']),
            (w.d1, w.d3))
        self.assertEqual([(l['product'], l['quantity'])
                for l in body['lines']], [(w.products.p1, 3)])
        status, listed = client.api('GET', f'{API}/transfers?state=requested')
        self.assertEqual(status, 200)
        self.assertIn(body['id'], [t['id'] for t in listed['items']])
        ids = [t['id'] for t in client.api('GET', f'{API}/transfers')[1][
                'items']]
        # as giver and as receiver; never the foreign side's
        self.assertIn(w.own.transfer_shipped, ids)
        self.assertIn(w.incoming, ids)
        self.assertNotIn(w.foreign.transfer_shipped, ids)

        # through the page
        page = self.client('d1-stock@example.com')
        before = self._transfers()
        response = page.post('/portal/stock/transfers', {
                'direction': 'out', 'counterpart': str(w.d3),
                'product': ['P1', ''], 'lot': ['', ''],
                'quantity': ['2', ''], 'note': '',
                'idempotency_key': 'stock-test-key-1'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:500])
        self.assertEqual(self._transfers(), before + 1)
        response = page.get(response.headers['Location'])
        self.assertEqual(response.status_code, 200)
        # the same form again writes nothing
        page.post('/portal/stock/transfers', {
                'direction': 'out', 'counterpart': str(w.d3),
                'product': ['P1'], 'lot': [''], 'quantity': ['2'],
                'idempotency_key': 'stock-test-key-1'})
        self.assertEqual(self._transfers(), before + 1)

    def test_giver_approve(self):
        "The giver approves a requested transfer (the brand still has to)"
        w = self.world
        client = self.client('d1-stock@example.com')
        response = client.get(
            f'/portal/stock/transfers/{w.own.transfer_requested}')
        self.assertIn('id="approve"', response.get_data(as_text=True))
        response = client.post(
            f'/portal/stock/transfers/{w.own.transfer_requested}/approve')
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:500])

        def read():
            Transfer = Pool().get('distributor.stock.transfer')
            transfer = Transfer(w.own.transfer_requested)
            return transfer.state, bool(transfer.giver_approved_at)
        self.assertEqual(self.read(read), ('requested', True))
        # twice: refused with the business message
        status, body = client.api('POST',
            f'{API}/transfers/{w.own.transfer_requested}/approve')
        self.assertEqual(status, 422, body)
        # the receiver may not approve as giver: not its transfer to give
        status, body = client.api('POST',
            f'{API}/transfers/{w.incoming}/approve')
        self.assertEqual(status, 404, body)

    def test_receive_shortfall(self):
        "A shipped transfer received short opens a discrepancy"
        w = self.world
        client = self.client('d1-stock@example.com')
        status, body = client.api('GET', f'{API}/transfers/{w.incoming}')
        self.assertEqual(status, 200, body)
        self.assertTrue(body['may_receive'])
        line, = body['lines']
        self.assertEqual(line['shipped_quantity'], 5)

        def stock():
            pool = Pool()
            Level = pool.get('distributor.stock.level')
            Party = pool.get('party.party')
            return Level.levels([Party(w.d1)], lots=False).get(
                (w.d1, w.products.p1, None), 0)
        before = self.read(stock)
        status, body = client.api('POST',
            f'{API}/transfers/{w.incoming}/receive',
            {'quantities': [{'line': line['id'], 'quantity': 3}],
                'note': 'two broken'})
        self.assertEqual(status, 200, body)
        self.assertEqual(body['state'], 'received')
        line, = body['lines']
        self.assertEqual((line['received_quantity'],
                line['missing_quantity'], line['discrepancy_state']),
            (3, 2, 'open'))
        self.assertEqual(self.read(stock), before + 3)
        # received: no second receipt
        status, body = client.api('POST',
            f'{API}/transfers/{w.incoming}/receive', {})
        self.assertEqual(status, 422, body)
        # the giver's shipped transfer is for its downstream to receive
        status, body = client.api('POST',
            f'{API}/transfers/{w.own.transfer_shipped}/receive', {})
        self.assertEqual(status, 404, body)

    def test_count_by_manual_scan(self):
        "A count is started, scanned by manual entry, and its variance read"
        w = self.world
        client = self.client('d1-stock@example.com')
        before = self._counts()
        response = client.post('/portal/stock/counts',
            {'idempotency_key': 'stock-count-key-1'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:500])
        self.assertEqual(self._counts(), before + 1)
        count = int(response.headers['Location'].rsplit('/', 1)[1])
        response = client.get(f'/portal/stock/scan?count={count}')
        self.assertEqual(response.status_code, 200)
        self.assertIn(f'action="/portal/stock/counts/{count}/scans"',
            response.get_data(as_text=True))
        response = client.post(f'/portal/stock/counts/{count}/scans', {
                'scans': f'{w.p1_code} 4\n{w.p1_code}*2\n{w.p1_code}\n',
                'idempotency_key': 'stock-scan-key-1'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:500])

        def book():
            Line = Pool().get('stock.inventory.line')
            line, = Line.search([('inventory', '=', count),
                    ('product', '=', w.products.p1), ('lot', '=', None)])
            return line.expected_quantity, line.quantity
        expected, counted = self.read(book)
        self.assertEqual(counted, 7)
        status, body = client.api('GET', f'{API}/counts/{count}/variance')
        self.assertEqual(status, 200, body)
        row, = [r for r in body['items'] if r['product'] == w.products.p1]
        self.assertEqual(row['variance_quantity'], 7 - expected)
        self.assertIsNone(row['variance_reason'])
        response = client.get(f'/portal/stock/counts/{count}')
        self.assertEqual(response.status_code, 200)
        self.assertIn('data-variance="%s"' % (7 - expected),
            response.get_data(as_text=True))
        # a code that does not resolve refuses the whole entry
        status, body = client.api('POST', f'{API}/counts/{count}/scans',
            {'scans': [w.p1_code, 'NO-SUCH-CODE']})
        self.assertEqual(status, 422, body)
        self.assertEqual(self.read(book), (expected, 7))

    def test_count_reasons_confirm(self):
        """A count with a variance is refused confirmation until its reason
        is given; confirmed, the stock is the counted quantity"""
        w = self.world
        client = self.client('d1-stock@example.com')
        response = client.post('/portal/stock/counts',
            {'idempotency_key': 'stock-count-key-2'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:500])
        count = int(response.headers['Location'].rsplit('/', 1)[1])

        def line():
            Line = Pool().get('stock.inventory.line')
            line, = Line.search([('inventory', '=', count),
                    ('product', '=', w.products.p1), ('lot', '=', None)])
            return (line.id, line.expected_quantity, line.quantity,
                line.variance_reason, line.variance_note)

        def state():
            pool = Pool()
            Inventory = pool.get('stock.inventory')
            Level = pool.get('distributor.stock.level')
            Party = pool.get('party.party')
            return (Inventory(count).state, Level.levels([Party(w.d1)]).get(
                    (w.d1, w.products.p1, None), 0))
        line_id, book, _, _, _ = self.read(line)
        counted = int(book) + 2
        response = client.post(f'/portal/stock/counts/{count}/scans', {
                'scans': f'{w.p1_code} {counted}\n',
                'idempotency_key': 'stock-scan-key-2'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:500])
        self.assertEqual(self.read(line)[2], counted)
        stock_before = self.read(state)
        self.assertEqual(stock_before, ('draft', book))

        # the page offers a reason per variance line and the confirmation
        response = client.get(f'/portal/stock/counts/{count}')
        self.assertEqual(response.status_code, 200)
        text = response.get_data(as_text=True)
        self.assertIn(f'action="/portal/stock/counts/{count}/reasons"', text)
        self.assertIn(f'name="reason_{line_id}"', text)
        self.assertIn(f'name="note_{line_id}"', text)
        self.assertIn('<option value="damaged"', text)
        self.assertIn(f'action="/portal/stock/counts/{count}/confirm"', text)
        self.assertIn('id="reasons-missing"', text)

        # confirming without the reason: refused with the model's message
        response = client.post(f'/portal/stock/counts/{count}/confirm')
        self.assertEqual(response.status_code, 422)
        self.assertIn('Give a variance reason for',
            response.get_data(as_text=True))
        status, body = client.api('POST', f'{API}/counts/{count}/confirm')
        self.assertEqual(status, 422, body)
        self.assertIn('Give a variance reason for', body['message'])
        self.assertEqual(self.read(state), stock_before)

        # a reason outside the list, or a line of another count: nothing
        status, body = client.api('POST', f'{API}/counts/{count}/reasons',
            {'reasons': [{'line': line_id, 'reason': 'stolen'}]})
        self.assertEqual(status, 400, body)

        def other_line():
            Line = Pool().get('stock.inventory.line')
            return Line.search([('inventory', '=', w.own.count)],
                limit=1)[0].id
        status, body = client.api('POST', f'{API}/counts/{count}/reasons',
            {'reasons': [
                    {'line': line_id, 'reason': 'damaged'},
                    {'line': self.read(other_line), 'reason': 'loss'}]})
        self.assertEqual(status, 404, body)
        self.assertEqual(self.read(line)[3:], (None, None))

        # the orders role may not give reasons nor confirm
        orders = self.client('d1-orders@example.com')
        status, body = orders.api('POST', f'{API}/counts/{count}/reasons',
            {'reasons': [{'line': line_id, 'reason': 'damaged'}]})
        self.assertEqual(status, 403, body)
        status, body = orders.api('POST', f'{API}/counts/{count}/confirm')
        self.assertEqual(status, 403, body)
        self.assertEqual(self.read(line)[3:], (None, None))

        # the reasons through the page form (an empty choice is skipped)
        response = client.post(f'/portal/stock/counts/{count}/reasons', {
                f'reason_{line_id}': 'count_error',
                f'note_{line_id}': 'last count missed a pallet'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:500])
        self.assertEqual(self.read(line)[3:],
            ('count_error', 'last count missed a pallet'))
        # and through the api
        status, body = client.api('POST', f'{API}/counts/{count}/reasons',
            {'reasons': [{'line': line_id, 'reason': 'unrecorded',
                        'note': 'delivery not booked'}]})
        self.assertEqual(status, 200, body)
        row, = [l for l in body['lines'] if l['id'] == line_id]
        self.assertEqual((row['variance_reason'], row['variance_note']),
            ('unrecorded', 'delivery not booked'))
        response = client.get(f'/portal/stock/counts/{count}')
        text = response.get_data(as_text=True)
        self.assertIn('<option value="unrecorded" selected>', text)
        self.assertNotIn('id="reasons-missing"', text)

        # confirmed: the stock is the counted quantity
        response = client.post(f'/portal/stock/counts/{count}/confirm')
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:500])
        self.assertEqual(self.read(state), ('done', counted))
        response = client.get(f'/portal/stock/counts/{count}')
        self.assertEqual(response.status_code, 200)
        text = response.get_data(as_text=True)
        self.assertNotIn('id="confirm"', text)
        self.assertNotIn('id="count-reasons"', text)
        status, body = client.api('GET', f'{API}/counts/{count}/variance')
        self.assertEqual(status, 200, body)
        row, = [r for r in body['items'] if r['product'] == w.products.p1]
        self.assertEqual((row['variance_quantity'], row['variance_reason']),
            (2, 'unrecorded'))
        # done: neither reasons nor a second confirmation
        status, body = client.api('POST', f'{API}/counts/{count}/confirm')
        self.assertEqual(status, 422, body)
        status, body = client.api('POST', f'{API}/counts/{count}/reasons',
            {'reasons': [{'line': line_id, 'reason': 'other'}]})
        self.assertEqual(status, 422, body)
        self.assertEqual(self.read(line)[3], 'unrecorded')
        self.assertEqual(self.read(state), ('done', counted))

    def test_scan_lookup(self):
        "Codes typed on the scan page resolve to products"
        w = self.world
        client = self.client('d1-view@example.com')
        response = client.get(f'/portal/stock/scan?codes={w.p1_code}+3')
        self.assertEqual(response.status_code, 200)
        text = response.get_data(as_text=True)
        self.assertIn(f'data-product="{w.products.p1}"', text)
        self.assertIn('/portal/static/scan.js', text)
        status, body = client.api('GET', f'{API}/scans?codes={w.p1_code}')
        self.assertEqual(status, 200, body)
        self.assertEqual(body['items'][0]['product'], w.products.p1)
        response = client.get('/portal/stock/scan?codes=NO-SUCH-CODE')
        self.assertEqual(response.status_code, 200)
        self.assertIn('id="scan-error"', response.get_data(as_text=True))
        response = client.get('/portal/static/scan.js')
        self.assertEqual(response.status_code, 200)

    def test_view_refused(self):
        "A view-only user reads the stock and writes nothing"
        w = self.world
        client = self.client('d1-view@example.com')
        for path in ['/portal/stock', '/portal/stock/alerts',
                '/portal/stock/transfers', '/portal/stock/counts',
                f'/portal/stock/counts/{w.own.count}',
                f'/portal/stock/transfers/{w.own.transfer_requested}']:
            self.assertEqual(client.get(path).status_code, 200, path)

        def untouched():
            pool = Pool()
            Transfer = pool.get('distributor.stock.transfer')
            Line = pool.get('stock.inventory.line')
            Inventory = pool.get('stock.inventory')
            return (Transfer.search_count([]),
                Transfer(w.own.transfer_requested).giver_approved_at,
                Transfer(w.incoming).state,
                Inventory.search_count([]),
                Inventory(w.own.count).state,
                Line.search_count([('inventory', '=', w.own.count),
                        ('quantity', '!=', None)]),
                Line.search_count([('inventory', '=', w.own.count),
                        ('variance_reason', '!=', None)]))

        def own_line():
            Line = Pool().get('stock.inventory.line')
            return Line.search([('inventory', '=', w.own.count)],
                limit=1)[0].id
        line = self.read(own_line)
        before = self.read(untouched)
        for method, path, body in [
                ('POST', f'{API}/transfers', {'direction': 'out',
                        'counterpart': w.d3,
                        'lines': [{'product': 'P1', 'quantity': 1}]}),
                ('POST', f'{API}/transfers/{w.own.transfer_requested}'
                    '/approve', None),
                ('POST', f'{API}/transfers/{w.incoming}/receive', {}),
                ('POST', f'{API}/counts', None),
                ('POST', f'{API}/counts/{w.own.count}/scans',
                    {'scans': ['P1']}),
                ('POST', f'{API}/alerts/order', {'alerts': [w.own.alert]}),
                ('POST', f'{API}/counts/{w.own.count}/reasons',
                    {'reasons': [{'line': line, 'reason': 'damaged'}]}),
                ('POST', f'{API}/counts/{w.own.count}/confirm', None),
                ]:
            status, answer = client.api(method, path, body)
            self.assertEqual(status, 403, (path, answer))
        response = client.get(f'/portal/stock/counts/{w.own.count}')
        self.assertNotIn('id="confirm"', response.get_data(as_text=True))
        self.assertNotIn('id="count-reasons"',
            response.get_data(as_text=True))
        response = client.post(
            f'/portal/stock/counts/{w.own.count}/reasons',
            {f'reason_{line}': 'damaged'})
        self.assertEqual(response.status_code, 403)
        response = client.post(f'/portal/stock/counts/{w.own.count}/confirm')
        self.assertEqual(response.status_code, 403)
        response = client.post('/portal/stock/counts')
        self.assertEqual(response.status_code, 403)
        response = client.post(
            f'/portal/stock/transfers/{w.own.transfer_requested}/approve')
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.read(untouched), before)

    def test_order_alerts(self):
        "The orders role orders the suggestions of the alerts"
        w = self.world
        client = self.client('d1-orders@example.com')
        response = client.post('/portal/stock/alerts/order',
            {'alerts': [str(w.own.alert)],
                'idempotency_key': 'stock-alert-key-1'})
        self.assertEqual(response.status_code, 303,
            response.get_data(as_text=True)[:500])

        def state():
            Alert = Pool().get('distributor.stock.alert')
            alert = Alert(w.own.alert)
            return alert.state, bool(alert.order)
        self.assertEqual(self.read(state), ('ordered', True))

    def test_orders_may_not_count(self):
        "The orders role may not count"
        w = self.world
        client = self.client('d1-orders@example.com')
        counts = self._counts()
        status, body = client.api('POST', f'{API}/counts')
        self.assertEqual(status, 403, body)
        status, body = client.api('POST',
            f'{API}/counts/{w.own.count}/scans', {'scans': ['P1']})
        self.assertEqual(status, 403, body)
        self.assertEqual(self._counts(), counts)

    def test_store_refused(self):
        "A store has no stock pages"
        client = self.client('s1@example.com')
        for path in ['/portal/stock', '/portal/stock/transfers',
                '/portal/stock/counts', '/portal/stock/scan']:
            self.assertEqual(client.get(path).status_code, 403, path)
        status, body = client.api('GET', f'{API}/levels')
        self.assertEqual(status, 403, body)

    def test_foreign_ids(self):
        "Another side's transfer or count answers like a missing one"
        w = self.world
        client = self.client('d1@example.com')
        transfers, counts = self._transfers(), self._counts()
        missing = 2 ** 31 - 2

        def foreign_count():
            pool = Pool()
            Inventory = pool.get('stock.inventory')
            Line = pool.get('stock.inventory.line')
            lines = Line.search([('inventory', '=', w.foreign.count)])
            return (Inventory(w.foreign.count).state, lines[0].id,
                [l.variance_reason for l in lines])
        foreign = self.read(foreign_count)
        foreign_line = foreign[1]
        answers = []
        for transfer in [w.foreign.transfer_requested, missing]:
            answers.append(client.api('GET', f'{API}/transfers/{transfer}'))
            answers.append(client.api('POST',
                    f'{API}/transfers/{transfer}/approve'))
            answers.append(client.api('POST',
                    f'{API}/transfers/{transfer}/receive', {}))
            self.assertEqual(client.get(
                    f'/portal/stock/transfers/{transfer}').status_code, 404)
        for count in [w.foreign.count, missing]:
            answers.append(client.api('GET', f'{API}/counts/{count}'))
            answers.append(client.api('GET',
                    f'{API}/counts/{count}/variance'))
            answers.append(client.api('POST', f'{API}/counts/{count}/scans',
                    {'scans': ['P1']}))
            answers.append(client.api('POST',
                    f'{API}/counts/{count}/reasons',
                    {'reasons': [{'line': foreign_line,
                                'reason': 'damaged'}]}))
            answers.append(client.api('POST',
                    f'{API}/counts/{count}/confirm'))
            self.assertEqual(client.get(
                    f'/portal/stock/counts/{count}').status_code, 404)
            self.assertEqual(client.post(
                    f'/portal/stock/counts/{count}/reasons',
                    {f'reason_{foreign_line}': 'damaged'}).status_code, 404)
            self.assertEqual(client.post(
                    f'/portal/stock/counts/{count}/confirm').status_code,
                404)
            # an empty form too: the count is resolved first
            for action in ['reasons', 'scans']:
                self.assertEqual(client.post(
                        f'/portal/stock/counts/{count}/{action}',
                        {'idempotency_key': f'stock-empty-{action}-{count}'}
                        ).status_code, 404)
            self.assertEqual(client.get(
                    f'/portal/stock/scan?count={count}').status_code, 404)
        for status, body in answers:
            self.assertEqual(status, 404, body)
            self.assertEqual(body, answers[0][1])
        # the foreign side as the other party of a new transfer
        status, body = client.api('POST', f'{API}/transfers', {
                'direction': 'out', 'counterpart': w.d4,
                'lines': [{'product': 'P1', 'quantity': 1}]})
        self.assertEqual(status, 404, body)
        self.assertEqual((self._transfers(), self._counts()),
            (transfers, counts))
        self.assertEqual(self.read(foreign_count), foreign)
