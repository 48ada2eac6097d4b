#!/usr/bin/env python3
# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Generate a realistic distributor network: the demo and the benchmarks.

    ./dms generate -d dms --distributors 10000 --products 500 --seed 42
    (= .venv/bin/python scripts/generate.py -c config/trytond.conf \\
        var/paths.conf -d dms ...)

The database must have the project modules activated and a company (the
brand); scripts/setup_db.py does both.  The same seed gives the same
network.  Creates: the territory tree (scripts/regions.py), the tiers
总代理 / 区域经销商 / 县级经销商 with their defaults, tags, product
categories and products, sales reps (users rep1, rep2, ...) responsible for
the regions, the users manager, accountant and dmsadmin, and distributors
at every tier with qualifications, grades, tags and states (mostly active,
some draft, frozen and terminated, some licences expiring or expired).

With the distributor_store module activated it also creates stores
(--stores, by default 120) in the territories of the active distributors,
terminal customers, store price bounds and prices, store promotions,
channel orders in every state, shelf checks with a diversion incident, a
coverage plan in progress, store limits and payments."""
import argparse
import datetime as dt
import random
import sys
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))

from regions import REGIONS  # noqa: E402

DEMO_PASSWORD = 'dms-demo'
# A fixed day the cooperation dates count back from, so that the network
# is the same whatever the day; licence validity counts from today
REFERENCE = dt.date(2026, 1, 1)

TIERS = [
    # code, name, level, downstream codes, credit limit
    ('T1', "总代理", 1, ['T2', 'T3'], Decimal('5000000')),
    ('T2', "区域经销商", 2, ['T3'], Decimal('1000000')),
    ('T3', "县级经销商", 3, [], Decimal('200000')),
    ]
TAGS = ["连锁KA", "餐饮渠道", "社区团购", "重点客户", "新开户", "电商分销"]
PRODUCT_CATEGORIES = [
    ("饮料", ["饮用水", "果汁", "茶饮料"]),
    ("乳制品", ["酸奶", "纯牛奶"]),
    ("休闲食品", ["饼干", "坚果"]),
    ("调味品", ["酱油", "醋"]),
    ("酒水", ["啤酒", "黄酒"]),
    ]
PRODUCT_NAMES = {
    "饮用水": ["纯净水 550ml×24", "天然矿泉水 380ml×24", "苏打水 350ml×15",
        "饮用水 5L×4"],
    "果汁": ["橙汁 1L×12", "苹果汁 300ml×24", "芒果汁 450ml×15"],
    "茶饮料": ["冰红茶 500ml×15", "绿茶 500ml×15", "乌龙茶 500ml×15"],
    "酸奶": ["原味酸奶 200g×12", "草莓酸奶 200g×12", "希腊酸奶 135g×16"],
    "纯牛奶": ["全脂纯牛奶 250ml×24", "低脂牛奶 250ml×24"],
    "饼干": ["苏打饼干 400g×12", "夹心饼干 380g×20"],
    "坚果": ["每日坚果 25g×30", "盐焗腰果 150g×20"],
    "酱油": ["生抽 500ml×12", "老抽 500ml×12"],
    "醋": ["陈醋 420ml×12", "香醋 500ml×12"],
    "啤酒": ["清爽啤酒 330ml×24", "精酿啤酒 500ml×12"],
    "黄酒": ["花雕酒 500ml×12", "三年陈黄酒 500ml×6"],
    }
NAME_WORDS = ["鼎盛", "华润", "恒通", "瑞丰", "金源", "宏达", "新世纪", "众诚",
    "永兴", "通达", "兴隆", "嘉禾", "天和", "福源", "顺昌", "百汇", "万家",
    "汇丰", "盛世", "东方", "锦程", "佳美", "安泰", "宝利", "泰和", "同创",
    "德润", "和信", "聚源", "荣达", "优品", "乐购", "优鲜", "信达", "昌隆",
    "华联", "利民", "惠民", "康源", "益丰"]
NAME_SUFFIXES = ["商贸有限公司", "贸易有限公司", "食品有限公司",
    "供应链管理有限公司", "商行", "副食品批发部"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静磊强洋勇军杰涛明超霞平刚辉鹏婷"
STREETS = ["人民路", "解放路", "中山路", "建设路", "和平路"]
FREEZE_REASONS = ["回款逾期超过 90 天", "跨区域窜货，暂停发货待查",
    "资质年检未通过", "价格体系违规，低价倾销"]
TERMINATE_REASONS = ["合同到期不再续签", "经营不善主动退出"]
# the demo's stores when distributor_store is activated
DEFAULT_STORES = 120
STORE_SUFFIXES = ["便利店", "超市", "生活超市", "副食店", "烟酒店", "社区店",
    "购物中心", "批发部"]
STORE_TAGS = ["社区店", "校园店", "商超", "餐饮终端", "24小时店"]
# rough centres (latitude, longitude) of the demo regions
REGION_CENTERS = {
    'HD': (31.2, 120.5), 'HN': (23.1, 113.3), 'HB': (39.9, 116.4),
    'XN': (30.6, 104.1)}
REJECT_REASONS = ["门店本月账款未结清，请先回款", "订货量超出门店陈列能力",
    "该品项门店不在铺货范围"]
CANCEL_REASONS = ["门店要求取消", "重复下单", "门店临时停业装修"]
DELIVERED_STATES = {'delivered', 'received', 'done'}


def create(Model, vlist, size=40):
    """Create in batches: trytond checks EXCLUDE constraints (product codes)
    on SQLite with one nested OR clause a record, which overflows SQLite's
    parser stack (depth 100) from about fifty records"""
    records = []
    for i in range(0, len(vlist), size):
        records.extend(Model.create(vlist[i:i + size]))
    return records


class Generator:

    def __init__(self, pool, company, seed, today):
        self.pool = pool
        self.company = company
        self.rng = random.Random(seed)
        self.today = today
        self.names = set()
        self.timings = {}

    def _step(self, name, func, *args):
        start = time.perf_counter()
        result = func(*args)
        self.timings[name] = time.perf_counter() - start
        return result

    # master data -------------------------------------------------------

    def territories(self):
        "Create the tree once; return (regions, provinces, leaves by prov)"
        Territory = self.pool.get('distributor.territory')
        existing = {t.code: t for t in Territory.search([])}
        regions, provinces, leaves = [], [], defaultdict(list)

        def get(code, name, kind, parent):
            if code in existing:
                return existing[code]
            territory, = Territory.create([{
                        'code': code, 'name': name, 'kind': kind,
                        'parent': parent.id if parent else None,
                        }])
            return territory
        for r_code, r_name, r_provinces in REGIONS:
            region = get(r_code, r_name, 'region', None)
            regions.append(region)
            for p_code, p_name, cities in r_provinces:
                p_code = f'{r_code}-{p_code}'
                province = get(p_code, p_name, 'province', region)
                provinces.append((region, province))
                for c_code, c_name, counties in cities:
                    c_code = f'{p_code}-{c_code}'
                    city = get(c_code, c_name, 'city', province)
                    leaves[province.id].append(city)
                    for k_code, k_name in counties:
                        county = get(
                            f'{c_code}-{k_code}', k_name, 'county', city)
                        leaves[province.id].append(county)
        return regions, provinces, leaves

    def tiers(self):
        pool = self.pool
        Tier = pool.get('distributor.tier')
        PaymentTerm = pool.get('account.invoice.payment_term')
        terms = PaymentTerm.search([('name', '=', "30 天")], limit=1)
        if terms:
            term, = terms
        else:
            term, = PaymentTerm.create([{
                        'name': "30 天",
                        'lines': [('create', [{
                                        'type': 'remainder',
                                        'relativedeltas': [('create', [{
                                                        'days': 30}])],
                                        }])],
                        }])
        existing = {t.code: t for t in Tier.search([])}
        to_create = [{
                'code': code, 'name': name, 'level': level,
                'payment_term': term.id,
                'credit_limit_amount': credit,
                } for code, name, level, _, credit in TIERS
            if code not in existing]
        for tier in Tier.create(to_create):
            existing[tier.code] = tier
        to_write = []
        for code, _, _, downstream, _ in TIERS:
            missing = [existing[d].id for d in downstream
                if existing[d] not in existing[code].downstream_tiers]
            if missing:
                to_write.extend([[existing[code]], {
                            'downstream_tiers': [('add', missing)]}])
        if to_write:
            Tier.write(*to_write)
        return existing

    def tags(self):
        Category = self.pool.get('party.category')
        existing = {c.name: c for c in Category.search([])}
        Category.create([{'name': n} for n in TAGS if n not in existing])
        return [c for c in Category.search([('name', 'in', TAGS)])]

    def products(self, count):
        pool = self.pool
        Category = pool.get('product.category')
        Template = pool.get('product.template')
        ModelData = pool.get('ir.model.data')
        unit = ModelData.get_id('product', 'uom_unit')
        tops, leaves = [], []
        existing = {c.name: c for c in Category.search([])}
        for top_name, children in PRODUCT_CATEGORIES:
            top = existing.get(top_name)
            if not top:
                top, = Category.create([{'name': top_name}])
            tops.append(top)
            for child in children:
                leaf = existing.get(child)
                if not leaf:
                    leaf, = Category.create([{
                                'name': child, 'parent': top.id}])
                leaves.append(leaf)
        done = Template.search_count([])
        vlist = []
        for i in range(done, count):
            leaf = leaves[i % len(leaves)]
            names = PRODUCT_NAMES[leaf.name]
            name = names[(i // len(leaves)) % len(names)]
            series = i // (len(leaves) * len(names))
            if series:
                name = f'{name} ({series + 1}代)'
            price = Decimal(self.rng.randrange(2000, 20000)) / 100
            vlist.append({
                    'name': name,
                    'type': 'goods',
                    'default_uom': unit,
                    'list_price': price,
                    'categories': [('add', [leaf.id])],
                    'products': [('create', [{
                                    'suffix_code': f'P{i + 1:05d}',
                                    'cost_price': (price * Decimal('0.6')
                                        ).quantize(Decimal('0.0001')),
                                    }])],
                    })
        if vlist:
            create(Template, vlist)
        return tops

    def staff(self, regions):
        "Sales reps (one per region) and the other demo users"
        pool = self.pool
        User = pool.get('res.user')
        Employee = pool.get('company.employee')
        Party = pool.get('party.party')
        Territory = pool.get('distributor.territory')
        ModelData = pool.get('ir.model.data')

        def group(xml_id):
            return ModelData.get_id('distributor', xml_id)
        wanted = [(f'rep{i + 1}', 'group_sales_rep', region)
            for i, region in enumerate(regions)]
        wanted += [
            ('manager', 'group_channel_manager', None),
            ('accountant', 'group_dms_accountant', None),
            ('dmsadmin', 'group_dms_admin', None),
            ]
        existing = {u.login: u for u in User.search([
                    ('login', 'in', [w[0] for w in wanted])])}
        # the brand's staff work in Chinese when the translations are loaded
        Lang = pool.get('ir.lang')
        langs = Lang.search([
                ('code', '=', 'zh_CN'), ('translatable', '=', True)])
        language = langs[0].id if langs else None
        self.language = language
        reps = {}
        for login, xml_id, region in wanted:
            user = existing.get(login)
            if not user:
                name = (self.rng.choice(SURNAMES)
                    + ''.join(self.rng.sample(GIVEN, 2)))
                party, = Party.create([{'name': name}])
                employee, = Employee.create([{
                            'party': party.id,
                            'company': self.company.id,
                            }])
                user, = User.create([{
                            'login': login,
                            'name': name,
                            'password': DEMO_PASSWORD,
                            'groups': [('add', [group(xml_id)])],
                            'companies': [('add', [self.company.id])],
                            'company': self.company.id,
                            'employees': [('add', [employee.id])],
                            'employee': employee.id,
                            'language': language,
                            }])
            if region:
                employee = user.employee
                if employee not in region.reps:
                    Territory.write([region], {
                            'reps': [('add', [employee.id])]})
                reps[region.id] = employee
        return reps

    # distributors ------------------------------------------------------

    def _name(self, territory):
        city = territory.name.rstrip('市区县省')
        while True:
            words = self.rng.sample(NAME_WORDS, 2)
            name = city + ''.join(words) + self.rng.choice(NAME_SUFFIXES)
            if name not in self.names:
                self.names.add(name)
                return name

    def _license(self, code, start):
        rng = self.rng
        number = '91' + ''.join(rng.choice('0123456789') for _ in range(6)) \
            + ''.join(rng.choice('0123456789ABCDEFGHJKLMNPQRTUWXY')
                for _ in range(10))
        values = [{
                'type': 'business_license',
                'number': number,
                'valid_from': start,
                'valid_to': self.today + dt.timedelta(
                    days=rng.randrange(200, 1800)),
                }]
        if rng.random() < 0.3:
            values.append({
                    'type': 'food_license',
                    'number': f'JY{rng.randrange(10**13, 10**14)}',
                    'valid_from': start,
                    'valid_to': self.today + dt.timedelta(
                        days=rng.randrange(200, 1800)),
                    })
        return values

    def _values(self, code, tier, territory, upstream, region, reps, tags,
            categories):
        rng = self.rng
        start = REFERENCE - dt.timedelta(days=rng.randrange(30, 3000))
        city = territory.name
        rep = reps.get(region.id)
        return {
            'name': self._name(territory),
            'is_distributor': True,
            # the distributors read their messages in Chinese
            'lang': getattr(self, 'language', None),
            'distributor_code': code,
            'distributor_tier': tier.id,
            'upstream': upstream.id if upstream else None,
            'territories': [('add', [territory.id])],
            'authorized_categories': [('add', [c.id for c in rng.sample(
                            categories, rng.randrange(2, len(categories)))])],
            'distributor_grade': rng.choices(
                'ABCD', weights=[2, 4, 3, 1])[0],
            'settlement_method': rng.choices(
                ['prepaid', 'credit', 'instalment'], weights=[4, 5, 1])[0],
            'sales_rep': rep.id if rep else None,
            'cooperation_start': start,
            'categories': [('add', [t.id for t in rng.sample(
                            tags, rng.randrange(0, 3))])],
            'addresses': [('create', [{
                            'street': f'{rng.choice(STREETS)} '
                            f'{rng.randrange(1, 999)} 号',
                            'city': city,
                            'territory': territory.id,
                            }])],
            'contact_mechanisms': [('create', [{
                            'type': 'mobile',
                            'value': f'1{rng.choice("3589")}'
                            f'{rng.randrange(10**8, 10**9)}',
                            }])],
            'qualifications': [('create', self._license(code, start))],
            }

    def distributors(self, count, tiers, regions, provinces, leaves, reps,
            tags, categories):
        pool = self.pool
        Party = pool.get('party.party')
        rng = self.rng
        done = Party.search_count([('is_distributor', '=', True)])
        if done:
            print(f'{done} distributors already there: none added')
            return []
        n_t1 = min(count, max(len(regions), round(count * 0.03)))
        n_t2 = min(count - n_t1,
            max(min(len(provinces), count // 4), round(count * 0.25)))
        n_t3 = count - n_t1 - n_t2
        number = iter(range(1, count + 1))

        def code():
            return f'D{next(number):05d}'

        region_of = {p.id: r for r, p in provinces}
        # national agents: one region each
        vlist = []
        for i in range(n_t1):
            region = regions[i % len(regions)]
            vlist.append(self._values(code(), tiers['T1'], region, None,
                    region, reps, tags, categories))
        t1s = create(Party, vlist)
        Party.change_distributor_state(t1s, 'active')
        t1_by_region = defaultdict(list)
        for party in t1s:
            t1_by_region[party.territories[0].id].append(party)

        # regional distributors: a province, under an agent of its region
        # or (one in ten) buying from the brand
        vlist = []
        for i in range(n_t2):
            region, province = provinces[i % len(provinces)]
            agents = t1_by_region.get(region.id)
            upstream = (rng.choice(agents)
                if agents and rng.random() > 0.1 else None)
            vlist.append(self._values(code(), tiers['T2'], province,
                    upstream, region, reps, tags, categories))
        t2s = create(Party, vlist)
        Party.change_distributor_state(t2s, 'active')

        # county distributors: a city or county of their upstream's province
        vlist = []
        for i in range(n_t3):
            upstream = rng.choice(t2s) if t2s else None
            province = upstream.territories[0] if upstream else (
                provinces[i % len(provinces)][1])
            territory = rng.choice(leaves[province.id])
            vlist.append(self._values(code(), tiers['T3'], territory,
                    upstream, region_of[province.id], reps, tags,
                    categories))
        t3s = create(Party, vlist)
        # a few stay in draft: their files are being completed
        drafts = set(rng.sample(t3s, min(len(t3s), max(1, len(t3s) // 30))))
        active = [p for p in t3s if p not in drafts]
        Party.change_distributor_state(active, 'active')
        self._vary_states(Party, t2s, active)
        return t1s + t2s + t3s

    def _vary_states(self, Party, t2s, t3s):
        pool = self.pool
        Qualification = pool.get('distributor.qualification')
        rng = self.rng
        pool_ = list(t3s)
        rng.shuffle(pool_)
        n_frozen = max(1, len(pool_) // 20)
        frozen, pool_ = pool_[:n_frozen], pool_[n_frozen:]
        by_reason = defaultdict(list)
        for party in frozen:
            by_reason[rng.choice(FREEZE_REASONS)].append(party)
        for reason, parties in sorted(by_reason.items()):
            Party.change_distributor_state(parties, 'frozen', reason)
        n_terminated = min(len(pool_), 2)
        terminated, pool_ = pool_[:n_terminated], pool_[n_terminated:]
        if terminated:
            Party.change_distributor_state(
                terminated, 'terminated', TERMINATE_REASONS[0])
        # licences: about 5% expiring within 30 days, two expired
        n_expiring = max(1, len(pool_) // 20)
        expiring, pool_ = pool_[:n_expiring], pool_[n_expiring:]
        expired = pool_[:2]
        to_write = []
        for party, days in (
                [(p, rng.randrange(3, 28)) for p in expiring]
                + [(p, -rng.randrange(1, 20)) for p in expired]):
            licence = [q for q in party.qualifications
                if q.type == 'business_license'][0]
            to_write.extend([[licence], {
                        'valid_to': self.today + dt.timedelta(days=days)}])
        if to_write:
            Qualification.write(*to_write)


    # distributor orders (distributor_sale) ----------------------------

    def sale_setup(self, tiers):
        """Make the products salable with an accounting category, give each
        tier a price list, floors and a minimum order amount, open the
        customer deposit account and the instalment payment term"""
        pool = self.pool
        Template = pool.get('product.template')
        Category = pool.get('product.category')
        Account = pool.get('account.account')
        AccountType = pool.get('account.account.type')
        PriceList = pool.get('product.price_list')
        PriceFloor = pool.get('distributor.price_floor')
        Tier = pool.get('distributor.tier')
        PaymentTerm = pool.get('account.invoice.payment_term')
        Configuration = pool.get('distributor.configuration')
        ModelData = pool.get('ir.model.data')
        rng = self.rng
        unit = ModelData.get_id('product', 'uom_unit')
        company = self.company
        revenues = Account.search([
                ('type.revenue', '=', True), ('closed', '!=', True),
                ('company', '=', company.id)], limit=1)
        if not revenues:
            raise SystemExit('no chart of accounts: run scripts/setup_db.py')
        accounting = Category.search([('name', '=', "商品")], limit=1)
        if accounting:
            accounting, = accounting
        else:
            accounting, = Category.create([{
                        'name': "商品", 'accounting': True,
                        'account_revenue': revenues[0].id,
                        }])
        templates = Template.search([('salable', '=', False)])
        if templates:
            to_write = []
            for template in templates:
                to_write.extend([[template], {
                            'salable': True,
                            'sale_uom': unit,
                            'account_category': accounting.id,
                            'pack_quantity': rng.choice(
                                [None, None, 6, 12]),
                            }])
            Template.write(*to_write)
        factors = {'T1': Decimal('0.80'), 'T2': Decimal('0.85'),
            'T3': Decimal('0.90')}
        minimums = {'T1': Decimal(5000), 'T2': Decimal(2000),
            'T3': Decimal(500)}
        for code, factor in factors.items():
            tier = tiers[code]
            if tier.price_list:
                continue
            price_list, = PriceList.create([{
                        'name': f"{tier.name}价格表",
                        'price': 'list_price',
                        'lines': [('create', [{
                                        'formula': f'unit_price * {factor}',
                                        }])],
                        }])
            Tier.write([tier], {
                    'price_list': price_list.id,
                    'minimum_order_amount': minimums[code],
                    })
        if not PriceFloor.search([], limit=1):
            Product = pool.get('product.product')
            vlist = []
            for product in Product.search([('salable', '=', True)]):
                for code, factor in factors.items():
                    vlist.append({
                            'tier': tiers[code].id,
                            'product': product.id,
                            'price': (product.list_price_used
                                * (factor - Decimal('0.05'))).quantize(
                                Decimal('0.01')),
                            })
            create(PriceFloor, vlist, size=500)
        if not AccountType.search([('deposit', '=', True)], limit=1):
            deposit_type, = AccountType.create([{
                        'name': "预收账款（经销商预付款）",
                        'statement': 'balance',
                        'deposit': True,
                        'company': company.id,
                        }])
            Account.create([{
                        'name': "预收账款-经销商预付款",
                        'code': '2203',
                        'type': deposit_type.id,
                        'party_required': True,
                        'reconcile': True,
                        'company': company.id,
                        }])
        config = Configuration(1)
        if not config.instalment_payment_term:
            term, = PaymentTerm.create([{
                        'name': "分 3 期（30/60/90 天）",
                        'lines': [('create', [{
                                        'type': 'percent_on_total',
                                        'ratio': Decimal('0.3333333333'),
                                        'divisor': Decimal('3'),
                                        'relativedeltas': [('create', [{
                                                        'days': 30}])],
                                        }, {
                                        'type': 'percent_on_total',
                                        'ratio': Decimal('0.3333333333'),
                                        'divisor': Decimal('3'),
                                        'relativedeltas': [('create', [{
                                                        'days': 60}])],
                                        }, {
                                        'type': 'remainder',
                                        'relativedeltas': [('create', [{
                                                        'days': 90}])],
                                        }])],
                        }])
            config.instalment_payment_term = term
            config.save()

    def deposits(self, parties):
        "Deposits paid by the prepaid distributors"
        pool = self.pool
        Account = pool.get('account.account')
        Move = pool.get('account.move')
        Journal = pool.get('account.journal')
        Period = pool.get('account.period')
        deposit, = Account.search([('type.deposit', '=', True)], limit=1)
        cash = Account.search([
                ('type.receivable', '=', False), ('type.payable', '=', False),
                ('type.deposit', '=', False), ('type.statement', '=',
                    'balance'), ('closed', '!=', True),
                ('type.assets', '=', True)], limit=1)
        journal, = Journal.search([('type', '=', 'cash')], limit=1)
        period = Period.find(self.company, date=self.today)
        vlist = []
        for party in parties:
            if party.settlement_method != 'prepaid' or party.deposit:
                continue
            amount = Decimal(self.rng.randrange(50, 300) * 1000)
            vlist.append({
                    'journal': journal.id,
                    'period': period,
                    'date': self.today,
                    'description': "经销商预付款",
                    'lines': [('create', [{
                                    'account': cash[0].id,
                                    'debit': amount, 'credit': Decimal(0),
                                    }, {
                                    'account': deposit.id,
                                    'party': party.id,
                                    'debit': Decimal(0), 'credit': amount,
                                    }])],
                    })
        moves = create(Move, vlist)
        Move.post(moves)

    def _run_tasks(self):
        from trytond.transaction import Transaction
        Queue = self.pool.get('ir.queue')
        transaction = Transaction()
        while transaction.tasks:
            Queue(transaction.tasks.pop()).run()

    def _order_lines(self, party, products):
        "Lines worth the tier's minimum, in pack multiples"
        rng = self.rng
        tier = party.distributor_tier
        factor = {1: Decimal('0.80'), 2: Decimal('0.85')}.get(
            tier.level, Decimal('0.90'))
        minimum = (tier.minimum_order_amount or 0) * Decimal('1.2')
        chosen = rng.sample(products, min(len(products), rng.randrange(1, 5)))
        lines = []
        amount = Decimal(0)
        for product in chosen:
            pack = int(product.pack_quantity or 1)
            quantity = pack * rng.randrange(2, 8) * max(1, 12 // pack)
            lines.append([product, quantity])
            amount += product.list_price_used * factor * quantity
        if amount and amount < minimum:
            scale = int(minimum / amount) + 1
            for line in lines:
                line[1] *= scale
        return [{'product': p.id, 'quantity': q} for p, q in lines]

    def orders(self, parties):
        """Orders of active distributors in every channel state, with a
        promotion order and a return"""
        pool = self.pool
        Sale = pool.get('sale.sale')
        Product = pool.get('product.product')
        Category = pool.get('product.category')
        Discrepancy = pool.get('distributor.sale.discrepancy')
        ShipmentOut = pool.get('stock.shipment.out')
        ShipmentReturn = pool.get('stock.shipment.out.return')
        from trytond.exceptions import UserError
        if Sale.search([('distributor_order', '=', True)], limit=1):
            print('distributor orders already there: none added')
            return []
        rng = self.rng
        # orders to the brand: the distributors that buy from it (no
        # upstream) and may trade (a business licence in force)
        active = [p for p in parties if p.distributor_state == 'active'
            and p.addresses and p.dms_buys_from_brand() and p.may_trade()]
        self.deposits(active)
        products_of = {}
        for party in active:
            categories = Category.search([
                    ('parent', 'child_of',
                        [c.id for c in party.authorized_categories])])
            products_of[party.id] = Product.search([
                    ('salable', '=', True),
                    ('template.categories', 'in', [c.id for c in categories]),
                    ], order=[('id', 'ASC')])
        active = [p for p in active if products_of[p.id]]
        plan = (['draft'] * 3 + ['submitted'] * 6 + ['rejected'] * 2
            + ['approved'] * 3 + ['shipped'] * 3 + ['received'] * 2
            + ['done'] * 5 + ['cancelled'] * 2 + ['promotion', 'return'])
        made = []
        for target in plan:
            for _ in range(10):
                party = rng.choice(active)
                kind = {'promotion': 'promotion', 'return': 'return'}.get(
                    target, 'regular')
                lines = self._order_lines(party, products_of[party.id])
                if kind == 'return':
                    lines = [dict(lines[0], quantity=min(
                                lines[0]['quantity'], 12))]
                try:
                    reference = f'PO{rng.randrange(10**5, 10**6)}'
                    sale = Sale(Sale.dms_create_order(party.id, lines,
                            kind=kind, reference=reference,
                            delivery_method=rng.choice(
                                ['brand', 'brand', 'carrier', 'pickup'])))
                    if target == 'draft':
                        made.append(sale)
                        break
                    Sale.dms_submit([sale])
                except UserError:
                    continue
                if target == 'submitted':
                    made.append(sale)
                    break
                if target == 'rejected':
                    Sale.dms_reject_orders([sale], rng.choice([
                                "数量超出本月配额，请分两次下单",
                                "收货地址需与合同一致",
                                "请改用促销订单参加本期活动"]))
                    made.append(sale)
                    break
                if target == 'cancelled':
                    Sale.dms_cancel_orders([sale], "经销商要求取消")
                    made.append(sale)
                    break
                if Sale.dms_approve_batch([sale]):
                    continue
                self._run_tasks()
                sale = Sale(sale.id)
                made.append(sale)
                if target in {'approved', 'promotion'}:
                    break
                if target == 'return':
                    shipments = list(sale.shipment_returns)
                    ShipmentReturn.receive(shipments)
                    ShipmentReturn.do(shipments)
                    Sale.process([sale])
                    self._run_tasks()
                    break
                shipments = list(sale.shipments)
                ShipmentOut.assign_force(shipments)
                ShipmentOut.pick(shipments)
                ShipmentOut.pack(shipments)
                ShipmentOut.ship(shipments)
                ShipmentOut.do(shipments)
                Sale.process([sale])
                self._run_tasks()
                sale = Sale(sale.id)
                if target == 'shipped':
                    break
                if target == 'received':
                    line = sale.line_lines[0]
                    Sale.dms_confirm_receipt([sale], {
                            line.id: max(line.quantity - 2, 0)},
                        note="运输途中破损 2 件")
                    break
                Sale.dms_confirm_receipt([sale])
                break
        # one shortfall already resolved by a credit note
        for discrepancy in Discrepancy.search([], limit=1):
            Discrepancy.resolve_discrepancies(
                [discrepancy], 'credit', "承运商赔付，开红字发票冲抵")
        return made

    # channel stock (distributor_stock) ---------------------------------

    def stock_setup(self, parties, tiers):
        """Warehouses for the active distributors, tier min/max levels,
        lots with expiry dates, opening stock 45 days ago and a month of
        sell-out (deliveries to stores), so that turnover, days of cover
        and every kind of alert show in the demo"""
        pool = self.pool
        Party = pool.get('party.party')
        Limit = pool.get('distributor.stock.limit')
        Lot = pool.get('stock.lot')
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        Product = pool.get('product.product')
        Category = pool.get('product.category')
        from trytond.transaction import Transaction
        rng = self.rng
        active = [p for p in parties if p.distributor_state == 'active']
        Party.dms_ensure_locations(active)
        if Limit.search([], limit=1):
            print('stock limits already there: no channel stock added')
            return
        active = Party.browse(active)
        products = Product.search([('salable', '=', True)],
            order=[('id', 'ASC')])
        scale = {'T1': 10, 'T2': 4, 'T3': 1}
        vlist = []
        for code, tier in sorted(tiers.items()):
            for product in products:
                pack = int(product.pack_quantity or 1)
                minimum = pack * 2 * scale[code]
                vlist.append({'tier': tier.id, 'product': product.id,
                        'min_quantity': minimum,
                        'max_quantity': minimum * 4})
        create(Limit, vlist, size=500)
        supplier, = Location.search([('code', '=', 'SUP')])
        customer, = Location.search([('code', '=', 'CUS')])
        currency = self.company.currency
        lots = {}
        moves = []
        for party in active:
            categories = Category.search([('parent', 'child_of',
                        [c.id for c in party.authorized_categories])])
            mine = [p for p in products
                if set(p.template.categories) & set(categories)]
            if not mine:
                continue
            storage = party.distributor_storage
            level = scale[party.distributor_tier.code]
            for product in rng.sample(mine, min(len(mine), 5)):
                pack = int(product.pack_quantity or 1)
                opening = pack * level * rng.choice([3, 6, 10, 16])
                lot = None
                if rng.random() < 0.3:
                    days = rng.choice([20, 45, 200, 400])
                    key = (product.id, days)
                    if key not in lots:
                        expiry = self.today + dt.timedelta(days=days)
                        lots[key], = Lot.create([{
                                    'product': product.id,
                                    'number': (f'{product.code}-'
                                        f'{expiry:%y%m%d}'),
                                    'expiration_date': expiry,
                                    }])
                    lot = lots[key]
                start = self.today - dt.timedelta(days=45)
                moves.append(Move(from_location=supplier,
                        to_location=storage, product=product, lot=lot,
                        quantity=opening, unit=product.default_uom,
                        effective_date=start, planned_date=start,
                        unit_price=product.list_price_used,
                        currency=currency, company=self.company))
                daily = rng.choice([0, 0, pack, level, pack * level])
                left = opening
                for day in range(30, 0, -3):
                    quantity = min(
                        left, daily * 3 * rng.choice([0, 1, 1, 2]))
                    if not quantity:
                        continue
                    left -= quantity
                    date = self.today - dt.timedelta(days=day)
                    moves.append(Move(from_location=storage,
                            to_location=customer, product=product, lot=lot,
                            quantity=quantity, unit=product.default_uom,
                            effective_date=date, planned_date=date,
                            unit_price=product.list_price_used,
                            currency=currency, company=self.company))
        # store deliveries have no origin document until distributor_store
        with Transaction().set_context(_skip_warnings=True):
            for i in range(0, len(moves), 500):
                batch = moves[i:i + 500]
                Move.save(batch)
                Move.do(batch)
        self.stock_moves = len(moves)

    def stock_activity(self, parties):
        """A transfer in every step, a stock count waiting with a variance
        and the alerts of the whole network"""
        pool = self.pool
        Transfer = pool.get('distributor.stock.transfer')
        Inventory = pool.get('stock.inventory')
        Line = pool.get('stock.inventory.line')
        Level = pool.get('distributor.stock.level')
        Alert = pool.get('distributor.stock.alert')
        from trytond.exceptions import UserError
        if Transfer.search([], limit=1):
            return
        rng = self.rng
        active = [p for p in parties if p.distributor_state == 'active'
            and p.distributor_warehouse]
        levels = Level.levels(active, lots=False)
        holders = sorted({(party, product)
                for (party, product, _), q in levels.items() if q >= 12})
        party_of = {p.id: p for p in active}
        made = []
        for target in ['requested', 'approved', 'shipped', 'received',
                'done']:
            for party_id, product_id in rng.sample(holders, len(holders)):
                giver = party_of[party_id]
                receivers = [p for p in active if p != giver
                    and set(p.territories) & set(giver.territories
                        + (giver.upstream.territories
                            if giver.upstream else ()))]
                if not receivers:
                    continue
                try:
                    transfer = Transfer(Transfer.dms_create_transfer(
                            giver.id, rng.choice(receivers).id,
                            [{'product': product_id, 'quantity': 6}],
                            note="区域间调剂库存"))
                except UserError:
                    continue
                made.append(transfer)
                if target != 'requested':
                    Transfer.approve([transfer])
                    Transfer.giver_approve([transfer], giver.id)
                if target in {'shipped', 'received', 'done'}:
                    Transfer.ship([transfer])
                if target == 'received':
                    line, = transfer.lines
                    Transfer.receive_transfers([transfer], {line.id: 5},
                        note="少到 1 件")
                elif target == 'done':
                    Transfer.receive_transfers([transfer])
                holders.remove((party_id, product_id))
                break
        # refused requests (a product the receiver may not sell) stay
        # drafts: the demo shows requested transfers only
        Transfer.delete(Transfer.search([('state', '=', 'draft')]))
        if active:
            party = max(active, key=lambda p: sum(
                    q for (i, _, _), q in levels.items() if i == p.id))
            inventory = Inventory(Inventory.dms_start_count(party.id))
            if inventory.lines:
                line = inventory.lines[0]
                Line.write([line], {
                        'quantity': max(line.expected_quantity - 2, 0),
                        'variance_reason': 'damaged',
                        'variance_note': "外箱受潮 2 件报损"})
        Alert.refresh()
        return made

    # stores and channel orders (distributor_store) ---------------------

    def _store_name(self, territory):
        city = territory.name.rstrip('市区县省')
        for attempt in range(10**6):
            name = (city + self.rng.choice(NAME_WORDS)
                + self.rng.choice(STORE_SUFFIXES))
            if attempt >= 50:
                # a city full of stores: number the branches
                name += f'（{attempt}号店）'
            if name not in self.names:
                self.names.add(name)
                return name

    def _person(self):
        return self.rng.choice(SURNAMES) + ''.join(self.rng.sample(GIVEN, 2))

    def stores(self, parties, count, regions):
        """Stores of the active distributors in their territories (size
        classes, cooperation types, tags, coordinates for most), a few
        closed, one moved to its distributor's upstream, and terminal
        customers; returns the stores, or None when there were some"""
        pool = self.pool
        Party = pool.get('party.party')
        Category = pool.get('party.category')
        Territory = pool.get('distributor.territory')
        rng = self.rng
        if Party.search([('is_store', '=', True)], limit=1):
            print('stores already there: none added')
            return None
        suppliers = [p for p in parties if p.distributor_state == 'active'
            and p.territories]
        if not suppliers or not count:
            return []
        existing = {c.name: c for c in Category.search([
                    ('name', 'in', STORE_TAGS)])}
        Category.create([{'name': n} for n in STORE_TAGS
                if n not in existing])
        tags = Category.search([('name', 'in', STORE_TAGS)],
            order=[('id', 'ASC')])
        region_of = {}
        for region in regions:
            for territory_id in Territory.area([region]):
                region_of[territory_id] = region
        places = {}

        def place(party):
            "The cities and counties of the distributor's area"
            if party.id not in places:
                area = Territory.browse(sorted(party.distributor_area()))
                places[party.id] = [t for t in area
                    if t.kind in {'city', 'county'}] or list(
                    party.territories)
            return places[party.id]
        # county distributors run most stores, national agents a few
        weights = [{1: 1, 2: 2}.get(p.distributor_tier.level, 3)
            for p in suppliers]
        vlist = []
        for _ in range(count):
            distributor = rng.choices(suppliers, weights=weights)[0]
            territory = rng.choice(place(distributor))
            values = {
                'name': self._store_name(territory),
                'is_store': True,
                'store_distributor': distributor.id,
                'store_territory': territory.id,
                'store_size': rng.choices(
                    ['small', 'medium', 'large', 'hypermarket'],
                    weights=[10, 6, 3, 1])[0],
                'cooperation_type': rng.choices(
                    ['direct', 'franchise', 'key_account', 'chain',
                        'wholesale'], weights=[10, 4, 2, 4, 2])[0],
                'store_opening_date': REFERENCE - dt.timedelta(
                    days=rng.randrange(30, 2500)),
                'store_contact': self._person(),
                'categories': [('add', [t.id for t in rng.sample(
                                tags, rng.randrange(0, 3))])],
                'addresses': [('create', [{
                                'street': f'{rng.choice(STREETS)} '
                                f'{rng.randrange(1, 999)} 号',
                                'city': territory.name,
                                'territory': territory.id,
                                }])],
                }
            region = region_of.get(territory.id)
            if region and region.code in REGION_CENTERS and (
                    rng.random() < 0.7):
                latitude, longitude = REGION_CENTERS[region.code]
                values['latitude'] = Decimal(str(round(
                            latitude + rng.uniform(-1.5, 1.5), 6)))
                values['longitude'] = Decimal(str(round(
                            longitude + rng.uniform(-1.5, 1.5), 6)))
            vlist.append(values)
        stores = create(Party, vlist)
        # a few closed
        closed = rng.sample(stores, max(1, len(stores) // 40))
        Party.store_close(closed)
        # one store taken over by its county distributor's upstream
        for store in stores:
            distributor = store.store_distributor
            upstream = distributor.upstream
            if (store not in closed and upstream and upstream.may_trade()
                    and store.store_territory.id
                    in upstream.distributor_area()):
                Party.move_stores([store], upstream, None,
                    "原经销商无力覆盖该门店，区域调整由上级经销商直供")
                break
        stores = Party.browse(list(map(int, stores)))
        closed = set(map(int, closed))
        # terminal customers: key buyers of the distributors with stores
        owners = sorted({s.store_distributor for s in stores},
            key=lambda p: p.id)
        vlist = []
        for distributor in rng.sample(owners,
                min(len(owners), max(1, count // 8))):
            mine = [s for s in stores if s.store_distributor == distributor
                and s.id not in closed]
            store = rng.choice(mine) if mine and rng.random() < 0.6 \
                else None
            vlist.append({
                    'name': self._person() + rng.choice(
                        ["", "（餐馆）", "（单位食堂）", "（团购团长）"]),
                    'is_terminal_customer': True,
                    'customer_distributor': distributor.id,
                    'customer_store': store.id if store else None,
                    'categories': [('add', [t.id for t in rng.sample(
                                    tags, rng.randrange(0, 2))])],
                    })
        create(Party, vlist)
        return stores

    def store_pricing(self, parties, regions):
        """The brand's store price bounds (one for the network, one for
        the first region, per product) and the store prices of the
        distributors with stores, inside their bounds"""
        pool = self.pool
        Product = pool.get('product.product')
        Bound = pool.get('distributor.store.price.bound')
        Price = pool.get('distributor.store.price')
        Party = pool.get('party.party')
        rng = self.rng
        if Bound.search([], limit=1):
            return
        products = Product.search([('salable', '=', True)],
            order=[('id', 'ASC')])
        vlist = []
        for product in products:
            base = product.list_price_used or Decimal(10)

            def price(factor):
                return (base * factor).quantize(Decimal('0.01'))
            vlist.append({'product': product.id,
                    'guide_price': price(Decimal('1.25')),
                    'min_price': price(Decimal('1.05')),
                    'max_price': price(Decimal('1.50'))})
            if regions:
                # the first region sells higher
                vlist.append({'product': product.id,
                        'territory': regions[0].id,
                        'guide_price': price(Decimal('1.30')),
                        'min_price': price(Decimal('1.15')),
                        'max_price': price(Decimal('1.60'))})
        create(Bound, vlist, size=500)
        owners = Party.search([
                ('is_distributor', '=', True),
                ('distributor_state', '=', 'active'),
                ('stores', '!=', None),
                ], order=[('id', 'ASC')])
        vlist = []
        for distributor in owners:
            if rng.random() < 0.4:
                continue
            chosen = rng.sample(products, min(len(products), 4))
            bounds = Bound.bounds_for(distributor, chosen)
            for product in chosen:
                bound = bounds[product.id][0]
                factor = Decimal(rng.choice([90, 95, 100, 100, 105])) / 100
                value = min(max((bound.guide_price * factor).quantize(
                                Decimal('0.01')), bound.min_price),
                    bound.max_price)
                vlist.append({'distributor': distributor.id,
                        'product': product.id, 'price': value})
        create(Price, vlist, size=500)

    def _channel_order(self, seller, buyer, lines, comment=None):
        Order = self.pool.get('distributor.channel.order')
        order, = Order.create([{
                    'seller': seller.id,
                    'buyer': buyer.id,
                    'comment': comment,
                    'lines': [('create', [{
                                    'product': p.id, 'quantity': q}
                                for p, q in lines])],
                    }])
        return order

    def store_orders(self, stores):
        """Store promotions, then channel orders in every state (one
        approved order back-ordered, one of a downstream distributor to
        its upstream, one of a terminal customer) through the model's
        workflow methods, stock permitting; returns the orders"""
        pool = self.pool
        Order = pool.get('distributor.channel.order')
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        Level = pool.get('distributor.stock.level')
        Promotion = pool.get('distributor.store.promotion')
        Price = pool.get('distributor.store.price')
        rng = self.rng
        if Order.search([], limit=1):
            print('channel orders already there: none added')
            return []
        stores = [s for s in stores if s.store_state == 'active'
            and s.store_distributor.may_trade()]
        sellers = sorted({s.store_distributor for s in stores},
            key=lambda p: p.id)
        distributors = Party.search([
                ('is_distributor', '=', True),
                ('distributor_state', '=', 'active'),
                ], order=[('id', 'ASC')])
        stock = defaultdict(float)
        for (party, product, _), quantity in Level.levels(
                distributors, lots=False).items():
            stock[(party, product)] += quantity
        products = {p.id: p for p in Product.search([], order=[])}
        stocked = defaultdict(list)
        for (party, product), quantity in sorted(stock.items()):
            if quantity > 0:
                stocked[party].append(products[product])
        stores = [s for s in stores if stocked[s.store_distributor.id]]
        sellers = [s for s in sellers if stocked[s.id]]
        if not stores:
            return []
        today = self.today

        def pack(product):
            return int(product.pack_quantity or 1)

        # promotions of the two distributors with the most stores
        by_seller = defaultdict(list)
        for store in stores:
            by_seller[store.store_distributor].append(store)
        ranked = sorted(sellers, key=lambda p: (-len(by_seller[p]), p.id))
        gifts = {}
        first = ranked[0]
        promotions = Promotion.create([{
                    'name': f"{today.month}月全场九五折",
                    'distributor': first.id, 'kind': 'percentage',
                    'percentage': Decimal('0.05'),
                    'start_date': today - dt.timedelta(days=10),
                    'end_date': today + dt.timedelta(days=20),
                    }, {
                    'name': "满 800 减 50",
                    'distributor': first.id, 'kind': 'threshold',
                    'threshold_amount': Decimal(800),
                    'amount_off': Decimal(50),
                    'start_date': today - dt.timedelta(days=10),
                    'end_date': today + dt.timedelta(days=20),
                    }])
        # buy X get Y: the next one with enough of a product to give
        offers = [(s, p) for s in ranked[1:] for p in stocked[s.id]
            if stock[(s.id, p.id)] >= pack(p) * 8]
        if offers:
            second, product = offers[0]
            # the gift is at most a fifth of the goods
            buy = pack(product) * min(10,
                int(stock[(second.id, product.id)] / pack(product) / 2))
            promotion, = Promotion.create([{
                        'name': f"{product.name} 买 {buy} 赠 "
                        f"{pack(product)}",
                        'distributor': second.id, 'kind': 'buy_get',
                        'buy_quantity': buy,
                        'gift_product': product.id,
                        'gift_quantity': pack(product),
                        'products': [('add', [product.id])],
                        'start_date': today - dt.timedelta(days=5),
                        'end_date': today + dt.timedelta(days=25),
                        }])
            promotions.append(promotion)
            gifts[second.id] = (product, buy, pack(product))
        # last month's promotion, closed
        closed, = Promotion.create([{
                    'name': "开业季九折",
                    'distributor': first.id, 'kind': 'percentage',
                    'percentage': Decimal('0.10'),
                    'start_date': today - dt.timedelta(days=60),
                    'end_date': today - dt.timedelta(days=31),
                    }])
        Promotion.activate(promotions + [closed])
        Promotion.close([closed])
        # a promotion being prepared
        Promotion.create([{
                    'name': "节日满 2000 减 150",
                    'distributor': first.id, 'kind': 'threshold',
                    'threshold_amount': Decimal(2000),
                    'amount_off': Decimal(150),
                    'start_date': today + dt.timedelta(days=30),
                    'end_date': today + dt.timedelta(days=45),
                    }])

        def need(seller, product, quantity):
            "The quantity delivered with the buy X get Y gifts"
            gift = gifts.get(seller.id)
            if gift and gift[0] == product:
                return quantity + (quantity // gift[1]) * gift[2]
            return quantity

        def pick(seller, share=3, products=None):
            """A product of the seller's stock and a quantity in packs
            taking at most 1/share of what is left, or None"""
            choices = [p for p in (products or stocked[seller.id])
                if stock[(seller.id, p.id)] >= pack(p) * 2]
            if not choices:
                return None
            product = rng.choice(choices)
            left = stock[(seller.id, product.id)]
            packs = max(1, min(rng.randrange(1, 6),
                    int(left / share / pack(product))))
            # two units at least: a receipt can then be short of one
            quantity = max(packs * pack(product), 2)
            if need(seller, product, quantity) > left:
                return None
            return product, quantity

        made = []

        def run(order, target, lines):
            "Take the order through the workflow up to target"
            if target == 'draft':
                return
            if target == 'cancelled' and rng.random() < 0.5:
                Order.cancel_orders([order], rng.choice(CANCEL_REASONS))
                return
            Order.submit([order])
            if target == 'submitted':
                return
            if target == 'rejected':
                Order.reject_orders([order], rng.choice(REJECT_REASONS))
                return
            Order.approve([order])
            if target == 'cancelled':
                Order.cancel_orders([order], rng.choice(CANCEL_REASONS))
                return
            if target in {'approved', 'backordered'}:
                return
            order = Order(order.id)
            for line in order.lines:
                stock[(order.seller.id, line.product.id)] -= line.quantity
            Order.deliver([order])
            if target == 'delivered':
                return
            order = Order(order.id)
            if target == 'received':
                # damaged on the way: one unit, or a pack of many
                line = max(order.lines, key=lambda l: l.delivered_quantity)
                short = min(line.delivered_quantity - 1,
                    max(1, pack(line.product) // 6))
                Order.receive_orders([order], {
                        line.id: line.delivered_quantity - short})
            else:
                Order.receive_orders([order])

        def place(seller, buyer, target, lines, comment=None):
            order = self._channel_order(seller, buyer, lines, comment)
            run(order, target, lines)
            made.append(order)
            return order

        # the orders that deliver come first, so that what is approved
        # afterwards is covered (but for the one back-ordered)
        upstream_pairs = [(p, p.upstream) for p in distributors
            if p.upstream and p.upstream.may_trade() and p.may_trade()
            and p.distributor_storage and stocked[p.upstream.id]]
        rng.shuffle(upstream_pairs)
        for target in ['done', 'submitted']:
            for buyer, seller in upstream_pairs:
                allowed = Party.dms_authorized_products(
                    [buyer], stocked[seller.id])[buyer.id]
                choices = [p for p in stocked[seller.id] if p.id in allowed]
                picked = pick(seller, products=choices) if choices else None
                if picked:
                    place(seller, buyer, target, [picked],
                        comment="下级经销商补货")
                    upstream_pairs.remove((buyer, seller))
                    break
        customers = Party.search([
                ('is_terminal_customer', '=', True),
                ('customer_distributor.distributor_state', '=', 'active'),
                ], order=[('id', 'ASC')])
        for customer in customers:
            if not customer.customer_distributor.may_trade():
                continue
            picked = pick(customer.customer_distributor)
            if picked:
                place(customer.customer_distributor, customer, 'done',
                    [picked], comment="团购订单")
                break
        # the promotions at work: 满减 reached, buy X get Y given
        for store in by_seller[first]:
            picked = pick(first, share=1)
            if picked:
                product, quantity = picked
                price = Price.prices_for(first, [product])[product.id]
                while (price * quantity * Decimal('0.95') < 800
                        and need(first, product, quantity + pack(product))
                        <= stock[(first.id, product.id)]):
                    quantity += pack(product)
                place(first, store, 'done', [(product, quantity)])
                break
        for seller_id, (product, buy, _) in gifts.items():
            seller = Party(seller_id)
            if need(seller, product, buy) <= stock[(seller_id, product.id)]:
                place(seller, rng.choice(by_seller[seller]), 'delivered',
                    [(product, buy)])
        n_done = max(6, len(stores) // 15)
        plan = (['done'] * n_done + ['received'] * 2 + ['delivered'] * 2
            + ['approved'] * 2 + ['backordered'] + ['submitted'] * 4
            + ['rejected'] * 2 + ['cancelled'] * 2 + ['draft'] * 3)
        for target in plan:
            for _ in range(20):
                store = rng.choice(stores)
                seller = store.store_distributor
                if target == 'backordered':
                    products = [p for p in stocked[seller.id]
                        if not gifts.get(seller.id)
                        or gifts[seller.id][0] != p]
                    if not products:
                        continue
                    product = rng.choice(products)
                    short = stock[(seller.id, product.id)] + pack(product) * 4
                    place(seller, store, target, [(product, short)],
                        comment="大促备货")
                    break
                picked = pick(seller)
                if not picked:
                    continue
                lines = [picked]
                second = pick(seller)
                if second and second[0] != picked[0] and rng.random() < 0.5:
                    lines.append(second)
                place(seller, store, target, lines)
                break
        return Order.browse(made)

    def store_activity(self, stores, orders, reps):
        """Shelf checks (one finds a lot shipped to another distributor:
        a diversion incident), a coverage plan in progress and one being
        prepared, store limits for replenishment, store payments"""
        pool = self.pool
        Check = pool.get('distributor.store.check')
        Incident = pool.get('distributor.diversion.incident')
        Plan = pool.get('distributor.coverage.plan')
        Limit = pool.get('distributor.store.limit')
        Payment = pool.get('distributor.store.payment')
        Level = pool.get('distributor.stock.level')
        Lot = pool.get('stock.lot')
        Category = pool.get('party.category')
        Product = pool.get('product.product')
        rng = self.rng
        today = self.today
        if Check.search([], limit=1):
            return
        stores = [s for s in stores if s.store_state == 'active']
        if not stores:
            return
        delivered = [o for o in orders if o.state in DELIVERED_STATES
            and o.buyer_kind == 'store']
        # a store found holding a lot its distributor never received
        lots = Lot.search([], order=[('id', 'ASC')])
        receivers = Incident.receivers([l.id for l in lots])
        for lot in lots:
            got = {d for d, _ in receivers.get(lot.id, [])}
            if not got:
                continue
            strangers = [s for s in stores
                if s.store_distributor.id not in got]
            if not strangers:
                continue
            store = rng.choice(strangers)
            check, = Check.create([{
                        'store': store.id,
                        'date': today - dt.timedelta(days=1),
                        'note': "业务员巡店：货架上发现非本区域批号",
                        'lines': [('create', [{
                                        'product': lot.product.id,
                                        'lot': lot.id,
                                        'quantity': rng.choice([3, 6, 12]),
                                        }])],
                        }])
            Check.confirm([check])
            break
        # ordinary checks of stores that received goods
        for order in delivered[:3]:
            check, = Check.create([{
                        'store': order.buyer.id,
                        'date': today,
                        'lines': [('create', [{
                                        'product': line.product.id,
                                        'quantity': max(
                                            (line.delivered_quantity or 0)
                                            // 2, 1),
                                        } for line in order.lines])],
                        }])
            Check.confirm([check])
        # one more being entered
        store = rng.choice(stores)
        levels = Level.levels([store.store_distributor], lots=False)
        product_ids = sorted({p for (_, p, _) in levels})
        if product_ids:
            Check.create([{
                        'store': store.id,
                        'lines': [('create', [{
                                        'product': product_ids[0],
                                        'quantity': 4,
                                        }])],
                        }])
        # coverage: the products of a delivered order (and one more) at
        # the stores of its distributor's territories
        for order in delivered:
            seller = order.seller
            products = sorted({l.product for l in order.lines},
                key=lambda p: p.id)
            # and one the store did not get, so that the plan is partly
            # covered
            got = {l.product for o in delivered if o.buyer == order.buyer
                for l in o.lines}
            others = [p for p in Product.search([('salable', '=', True)],
                    order=[('id', 'ASC')]) if p not in got]
            if others:
                products.append(rng.choice(others))
            region = seller.territories[0]
            while region.parent:
                region = region.parent
            rep = reps.get(region.id)
            plan, = Plan.create([{
                        'name': f"{seller.territories[0].name}新品铺货"
                        f"（{today.year}年{today.month}月）",
                        'owner_rep': rep.id if rep else None,
                        'start_date': today - dt.timedelta(days=14),
                        'deadline': today + dt.timedelta(days=30),
                        'territories': [('add',
                                [t.id for t in seller.territories])],
                        'products': [('add', [p.id for p in products])],
                        }])
            Plan.start([plan])
            break
        tags = Category.search([('name', 'in', STORE_TAGS)], limit=1,
            order=[('id', 'ASC')])
        if tags and delivered:
            Plan.create([{
                        'name': f"{tags[0].name}专项铺货（下季度）",
                        'start_date': today + dt.timedelta(days=30),
                        'deadline': today + dt.timedelta(days=120),
                        'tags': [('add', [tags[0].id])],
                        'size_classes': ['small', 'medium'],
                        'products': [('add', [l.product.id
                                        for l in delivered[0].lines])],
                        }])
        # min/max for some stores of what their distributor stocks
        stock = Level.levels(sorted({s.store_distributor for s in stores},
                key=lambda p: p.id), lots=False)
        by_seller = defaultdict(set)
        for party, product, _ in stock:
            by_seller[party].add(product)
        products = {p.id: p for p in Product.browse(
                sorted({p for (_, p, _) in stock}))}
        vlist = []
        for store in rng.sample(stores, max(1, len(stores) // 3)):
            mine = sorted(by_seller.get(store.store_distributor.id, ()))
            for product_id in rng.sample(mine, min(len(mine), 2)):
                pack = int(products[product_id].pack_quantity or 1)
                minimum = pack * rng.choice([1, 2, 3])
                vlist.append({'store': store.id, 'product': product_id,
                        'min_quantity': minimum,
                        'max_quantity': minimum * 3,
                        'lead_time': rng.choice([None, 1, 2, 3]),
                        })
        create(Limit, vlist, size=500)
        # payments: most stores pay part of what they were billed
        payments = []
        for order in delivered:
            if not order.billed_amount or rng.random() < 0.25:
                continue
            payments.append(Payment(distributor=order.seller,
                    store=order.buyer,
                    date=today - dt.timedelta(days=rng.randrange(0, 5)),
                    amount=(order.billed_amount * Decimal(rng.choice(
                                    [50, 80, 100])) / 100).quantize(
                        Decimal('0.01')),
                    method=rng.choice(['bank', 'wechat', 'alipay', 'cash']),
                    reference=f'PAY{rng.randrange(10**6, 10**7)}'))
        Payment.save(payments)
        Payment.post(payments[1:])


def in_transaction(database, func, *args, **kwargs):
    """Run func in a transaction as root and commit, restarting it as the
    server does when a table must be locked from the start.

    On SQLite the generator takes every table lock up front instead: a
    restart is not atomic there (trytond shares one connection per
    database, and a nested transaction's cache sync commits the outer
    one), while its table locks cost nothing.  Never on PostgreSQL, where
    nested transactions use their own connection and would wait forever
    on a table held here."""
    from trytond import backend
    from trytond.model import ModelSQL
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    if backend.name == 'sqlite':
        pool = Pool(database)
        extras['_lock_tables'] = sorted({
                Model._table for _, Model in pool.iterobject()
                if issubclass(Model, ModelSQL)
                and not Model._is_table_query()})
    while True:
        try:
            with Transaction().start(database, 0, **extras) as transaction:
                result = func(*args, **kwargs)
                transaction.commit()
            return result
        except TransactionError as error:
            error.fix(extras)


def generate(database, distributors=60, products=40, stores=0, seed=42,
        verbose=True):
    """Generate the network in database (trytond already configured).
    stores None: DEFAULT_STORES when distributor_store is activated.
    Returns the counts of distributors per tier and state."""
    from trytond.pool import Pool

    if database not in Pool.database_list():
        Pool(database).init()
    start = time.perf_counter()
    gen, counts = in_transaction(database, _generate,
        distributors, products, stores, seed)
    if verbose:
        print(f'generated in {time.perf_counter() - start:.1f} s: '
            + ', '.join(f'{k} {v:.1f} s' for k, v in gen.timings.items()))
        for (tier, state), n in sorted(counts.items()):
            print(f'  {tier} {state:<10} {n}')
        for state, n in sorted(getattr(gen, 'order_counts', {}).items()):
            print(f'  order {state:<10} {n}')
        if getattr(gen, 'store_count', None):
            print(f'  stores     {gen.store_count}')
        for state, n in sorted(
                getattr(gen, 'channel_order_counts', {}).items()):
            print(f'  channel order {state:<10} {n}')
    return counts


def _generate(distributors, products, stores, seed):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool()
    try:
        has_stores = bool(pool.get('distributor.channel.order'))
    except KeyError:
        has_stores = False
    if stores is None:
        stores = DEFAULT_STORES if has_stores else 0
    if stores and not has_stores:
        raise SystemExit(
            '--stores needs the distributor_store module activated')
    Company = pool.get('company.company')
    Date = pool.get('ir.date')
    companies = Company.search([], limit=1)
    if not companies:
        raise SystemExit('no company: run scripts/setup_db.py first')
    company, = companies
    with Transaction().set_context(
            company=company.id, companies=[company.id]):
        gen = Generator(pool, company, seed, Date.today())
        regions, provinces, leaves = gen._step(
            'territories', gen.territories)
        tiers = gen._step('tiers', gen.tiers)
        tags = gen._step('tags', gen.tags)
        categories = gen._step('products', gen.products, products)
        reps = gen._step('staff', gen.staff, regions)
        parties = gen._step('distributors', gen.distributors,
            distributors, tiers, regions, provinces, leaves, reps,
            tags, categories)
        Party = pool.get('party.party')
        if not parties:
            parties = Party.search([('is_distributor', '=', True)])
        try:
            Sale = pool.get('sale.sale')
        except KeyError:
            Sale = None
        if Sale is not None and 'channel_state' in Sale._fields:
            gen._step('sale setup', gen.sale_setup, tiers)
            try:
                stock = bool(pool.get('distributor.stock.level'))
            except KeyError:
                stock = False
            if stock:
                gen._step('stock setup', gen.stock_setup, parties, tiers)
            orders = gen._step('orders', gen.orders, parties)
            gen.order_counts = Counter(s.channel_state for s in orders)
            if stock:
                gen._step('stock activity', gen.stock_activity, parties)
            if stock and stores:
                made = gen._step('stores', gen.stores, parties, stores,
                    regions)
                if made is not None:
                    gen.store_count = len(made)
                    gen._step('store pricing', gen.store_pricing, parties,
                        regions)
                    channel = gen._step('store orders', gen.store_orders,
                        made)
                    gen.channel_order_counts = Counter(
                        o.state for o in channel)
                    gen._step('store activity', gen.store_activity, made,
                        channel, reps)
        counts = Counter(
            (p.distributor_tier.code, p.distributor_state)
            for p in parties)
    return gen, counts


def add_arguments(parser):
    "The options of the generator, shared with scripts/setup_db.py"
    parser.add_argument('-c', '--config', nargs='+', required=True,
        help="trytond configuration files")
    parser.add_argument('-d', '--database', default='dms')
    parser.add_argument('--distributors', type=int, default=60)
    parser.add_argument('--products', type=int, default=40)
    parser.add_argument('--stores', type=int, default=None,
        help="stores of the demo network (needs the distributor_store "
        f"module; {DEFAULT_STORES} when it is activated, 0 for none)")
    parser.add_argument('--seed', type=int, default=42)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    from trytond import config
    config.update_etc(args.config)
    generate(args.database, distributors=args.distributors,
        products=args.products, stores=args.stores, seed=args.seed)
    return 0


if __name__ == '__main__':
    sys.exit(main())
