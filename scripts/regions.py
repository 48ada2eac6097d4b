# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Real Chinese sales regions (大区), provinces and cities/counties for the
demo and benchmark networks.  Codes are pinyin initials."""

# (code, name, [(code, name, [(code, name, [(code, name), ...counties])])])
REGIONS = [
    ('HD', "华东大区", [
        ('SH', "上海市", [
            ('PD', "浦东新区", []),
            ('MH', "闵行区", []),
            ('JD', "嘉定区", []),
            ]),
        ('JS', "江苏省", [
            ('NJ', "南京市", []),
            ('SZ', "苏州市", [('KS', "昆山市"), ('CS', "常熟市")]),
            ('WX', "无锡市", [('JY', "江阴市")]),
            ('CZ', "常州市", []),
            ('NT', "南通市", []),
            ]),
        ('ZJ', "浙江省", [
            ('HZ', "杭州市", []),
            ('NB', "宁波市", [('YY', "余姚市")]),
            ('WZ', "温州市", []),
            ('SX', "绍兴市", []),
            ('JH', "金华市", [('YW', "义乌市")]),
            ]),
        ]),
    ('HN', "华南大区", [
        ('GD', "广东省", [
            ('GZ', "广州市", []),
            ('SZ', "深圳市", []),
            ('FS', "佛山市", [('SD', "顺德区")]),
            ('DG', "东莞市", []),
            ('ZH', "珠海市", []),
            ]),
        ('FJ', "福建省", [
            ('FZ', "福州市", []),
            ('XM', "厦门市", []),
            ('QZ', "泉州市", [('JJ', "晋江市")]),
            ]),
        ]),
    ('HB', "华北大区", [
        ('BJ', "北京市", [
            ('CY', "朝阳区", []),
            ('HD', "海淀区", []),
            ('TZ', "通州区", []),
            ]),
        ('HE', "河北省", [
            ('SJZ', "石家庄市", []),
            ('TS', "唐山市", []),
            ('BD', "保定市", [('ZZ', "涿州市")]),
            ('LF', "廊坊市", []),
            ]),
        ]),
    ('XN', "西南大区", [
        ('SC', "四川省", [
            ('CD', "成都市", [('DJY', "都江堰市")]),
            ('MY', "绵阳市", []),
            ]),
        ('CQ', "重庆市", [
            ('YZ', "渝中区", []),
            ('JB', "江北区", []),
            ]),
        ]),
    ]
