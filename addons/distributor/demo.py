# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The demo of the distributor module, and what every module's demo shares.

scripts/generate.py (the runner) builds the demo network from the
``demo.py`` of each activated module that has one, walking the modules in
Tryton's dependency order: a module's demo is its list ``PARTS`` of
``Part`` steps, run one after the other with one argument, the demo
context.  The context holds the pool, the company, ``today``, ``rng`` (the
one ``random.Random(seed)`` of the run: every draw comes from it, in the
order the parts run, so that a seed gives the same network), ``options``
(``distributors``, ``products``, ``stores``: the sizes asked for),
``region_tree`` (the regions, provinces, cities and counties of
scripts/regions.py), ``names`` (the party names given so far), ``report``
(the lines printed after the timings) and what the parts before have made:
the parts of this module add ``regions``, ``provinces``, ``leaves``,
``tiers``, ``tags``, ``categories``, ``language``, ``reps`` and
``parties``.

A new module adds its demo with a ``demo.py`` beside its ``tryton.cfg``:

    from distributor.demo import Part

    def rebates(demo):
        "..."
        demo.rebates = ...

    PARTS = [Part('rebates', rebates)]

nothing else to register.  A part that must run before a part of a module
it depends on names it (``Part(..., before='orders')``); one that runs only
in some cases says when (``Part(..., when=lambda demo: ...)``).  Every part
completes what the database lacks and adds nothing to what it has, so that
a second run leaves the network as it is.

This file is only used by the generator: the module's ``__init__`` does not
import it."""
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import NamedTuple

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


class Part(NamedTuple):
    "A step of a module's demo, timed on its own"
    name: str
    # called with the demo context
    run: Callable
    # the name of a part of another module this one runs just before
    before: str | None = None
    # called with the demo context: whether the part runs (always if None)
    when: Callable | None = None


def create(Model, vlist, size=40):
    """Create in batches: trytond checks EXCLUDE constraints (product codes)
    on SQLite with one nested OR clause a record, which overflows SQLite's
    parser stack (depth 100) from about fifty records"""
    records = []
    for i in range(0, len(vlist), size):
        records.extend(Model.create(vlist[i:i + size]))
    return records


# master data ---------------------------------------------------------------

def territories(demo):
    """The territory tree of demo.region_tree, created once: demo.regions,
    demo.provinces ((region, province) pairs) and demo.leaves (the cities
    and counties by province id)"""
    Territory = demo.pool.get('distributor.territory')
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
    for r_code, r_name, r_provinces in demo.region_tree:
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
    demo.regions, demo.provinces, demo.leaves = regions, provinces, leaves


def tiers(demo):
    "The tiers with their defaults: demo.tiers by code"
    pool = demo.pool
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
    demo.tiers = existing


def tags(demo):
    "The distributor tags (party categories): demo.tags"
    Category = demo.pool.get('party.category')
    existing = {c.name: c for c in Category.search([])}
    Category.create([{'name': n} for n in TAGS if n not in existing])
    demo.tags = [c for c in Category.search([('name', 'in', TAGS)])]


def products(demo):
    """The product categories and demo.options.products products:
    demo.categories (the top categories)"""
    count = demo.options.products
    pool = demo.pool
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
        price = Decimal(demo.rng.randrange(2000, 20000)) / 100
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
    demo.categories = tops


def staff(demo):
    """Sales reps (one per region: demo.reps, their employees by region id)
    and the other demo users; demo.language, the staff's"""
    regions = demo.regions
    pool = demo.pool
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
    demo.language = language
    reps = {}
    # the accountant works in Tryton accounting too: its Accounting group
    # (invoices, moves, reconciliation, bank statements)
    extra = {'accountant': [ModelData.get_id('account', 'group_account')]}
    for login, xml_id, region in wanted:
        user = existing.get(login)
        if not user:
            name = (demo.rng.choice(SURNAMES)
                + ''.join(demo.rng.sample(GIVEN, 2)))
            party, = Party.create([{'name': name}])
            employee, = Employee.create([{
                        'party': party.id,
                        'company': demo.company.id,
                        }])
            user, = User.create([{
                        'login': login,
                        'name': name,
                        'password': DEMO_PASSWORD,
                        'groups': [('add',
                                    [group(xml_id)] + extra.get(login, []))],
                        'companies': [('add', [demo.company.id])],
                        'company': demo.company.id,
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
    demo.reps = reps


# distributors --------------------------------------------------------------

def _name(demo, territory):
    city = territory.name.rstrip('市区县省')
    while True:
        words = demo.rng.sample(NAME_WORDS, 2)
        name = city + ''.join(words) + demo.rng.choice(NAME_SUFFIXES)
        if name not in demo.names:
            demo.names.add(name)
            return name


def _license(demo, code, start):
    rng = demo.rng
    number = '91' + ''.join(rng.choice('0123456789') for _ in range(6)) \
        + ''.join(rng.choice('0123456789ABCDEFGHJKLMNPQRTUWXY')
            for _ in range(10))
    values = [{
            'type': 'business_license',
            'number': number,
            'valid_from': start,
            'valid_to': demo.today + dt.timedelta(
                days=rng.randrange(200, 1800)),
            }]
    if rng.random() < 0.3:
        values.append({
                'type': 'food_license',
                'number': f'JY{rng.randrange(10**13, 10**14)}',
                'valid_from': start,
                'valid_to': demo.today + dt.timedelta(
                    days=rng.randrange(200, 1800)),
                })
    return values


def _values(demo, code, tier, territory, upstream, region, reps, tags,
        categories):
    rng = demo.rng
    start = REFERENCE - dt.timedelta(days=rng.randrange(30, 3000))
    city = territory.name
    rep = reps.get(region.id)
    return {
        'name': _name(demo, territory),
        'is_distributor': True,
        # the distributors read their messages in Chinese
        'lang': demo.language,
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
        'qualifications': [('create', _license(demo, code, start))],
        }


def distributors(demo):
    """demo.options.distributors distributors at every tier, with
    qualifications, grades, tags and states (mostly active, some draft,
    frozen and terminated, some licences expiring or expired): demo.parties,
    the distributors of the database when there were some"""
    demo.parties = _distributors(demo, demo.options.distributors,
        demo.tiers, demo.regions, demo.provinces, demo.leaves, demo.reps,
        demo.tags, demo.categories)
    if not demo.parties:
        Party = demo.pool.get('party.party')
        demo.parties = Party.search([('is_distributor', '=', True)])


def _distributors(demo, count, tiers, regions, provinces, leaves, reps,
        tags, categories):
    pool = demo.pool
    Party = pool.get('party.party')
    rng = demo.rng
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
        vlist.append(_values(demo, code(), tiers['T1'], region, None,
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
        vlist.append(_values(demo, code(), tiers['T2'], province,
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
        vlist.append(_values(demo, code(), tiers['T3'], territory,
                upstream, region_of[province.id], reps, tags,
                categories))
    t3s = create(Party, vlist)
    # a few stay in draft: their files are being completed
    drafts = set(rng.sample(t3s, min(len(t3s), max(1, len(t3s) // 30))))
    active = [p for p in t3s if p not in drafts]
    Party.change_distributor_state(active, 'active')
    _vary_states(demo, Party, t2s, active)
    return t1s + t2s + t3s


def _vary_states(demo, Party, t2s, t3s):
    pool = demo.pool
    Qualification = pool.get('distributor.qualification')
    rng = demo.rng
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
                    'valid_to': demo.today + dt.timedelta(days=days)}])
    if to_write:
        Qualification.write(*to_write)


PARTS = [
    Part('territories', territories),
    Part('tiers', tiers),
    Part('tags', tags),
    Part('products', products),
    Part('staff', staff),
    Part('distributors', distributors),
    ]
