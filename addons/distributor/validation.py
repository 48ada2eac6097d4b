# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""One validation layer for what comes from outside.

Every API argument and every document field goes through these checks
before anything is written: numbers are finite, within their digits and a
stated maximum, positive where they must be; ids are integers (the trust
boundary then resolves them); dates are real dates; text is bounded and
free of control characters; a document has at most the configured number
of lines.  A refusal is an InputError (a translated UserError) that names
the field; nothing is written.

The limits are in the DMS configuration (Distributors ▸ Configuration):
lines per document, quantity per line, amount, text length."""
import datetime as dt
import math
import unicodedata
from decimal import Decimal, InvalidOperation

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool

from .exceptions import InputError

# bidirectional overrides and isolates, marks: they make a text read
# differently from what it holds
_BIDI = {
    '\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d',
    '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\ufeff',
    }
_LINE_BREAKS = {'\n', '\r', '\t'}
# the default bounds of the fields that declare none
CHAR_SIZE = 256


def limits():
    "The configured limits (distributor.configuration)"
    return Pool().get('distributor.configuration')(1)


def _short(value):
    text = str(value)
    return text if len(text) <= 40 else text[:37] + '...'


def number(value, field, digits=None, minimum=None, maximum=None,
        positive=False, strict=False):
    """A finite number from value (int, float, Decimal or a numeric
    string), rounded to digits decimals when given.

    positive: greater than 0; minimum (inclusive), maximum (inclusive,
    also on the absolute value)."""
    if isinstance(value, bool) or value is None or (
            not isinstance(value, (int, float, Decimal, str))):
        raise InputError(gettext('distributor.msg_input_number',
                field=field, value=_short(value)))
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InputError(gettext('distributor.msg_input_number',
                field=field, value=_short(value))) from None
    if not result.is_finite():
        raise InputError(gettext('distributor.msg_input_number',
                field=field, value=_short(value)))
    if maximum is not None and abs(result) > maximum:
        raise InputError(gettext('distributor.msg_input_maximum',
                field=field, value=_short(value), maximum=maximum))
    if digits is not None:
        exponent = Decimal(1).scaleb(-digits)
        if result != result.quantize(exponent):
            if strict:
                raise InputError(gettext('distributor.msg_input_digits',
                        field=field, value=_short(value), digits=digits))
            result = result.quantize(exponent)
    if positive and result <= 0:
        raise InputError(gettext('distributor.msg_input_positive',
                field=field, value=_short(value)))
    if minimum is not None and result < minimum:
        raise InputError(gettext('distributor.msg_input_minimum',
                field=field, value=_short(value), minimum=minimum))
    return result


def quantity(value, field, unit=None, positive=True, allow_zero=False):
    """A quantity: finite, within the configured maximum, positive (or
    zero with allow_zero), rounded to the unit when given; a float"""
    config = limits()
    result = number(value, field, maximum=config.max_quantity,
        minimum=0 if allow_zero else None,
        positive=positive and not allow_zero)
    result = float(result)
    if unit is not None:
        result = unit.round(result)
        if positive and not allow_zero and result <= 0:
            raise InputError(gettext('distributor.msg_input_positive',
                    field=field, value=_short(value)))
    return result


def amount(value, field, digits=2, positive=False, minimum=None):
    "An amount of money within the configured maximum, as a Decimal"
    config = limits()
    return number(value, field, digits=digits, positive=positive,
        minimum=minimum, maximum=config.max_amount)


def integer(value, field, minimum=None, maximum=None):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(gettext('distributor.msg_input_integer',
                field=field, value=_short(value)))
    if minimum is not None and value < minimum:
        raise InputError(gettext('distributor.msg_input_minimum',
                field=field, value=value, minimum=minimum))
    if maximum is not None and value > maximum:
        raise InputError(gettext('distributor.msg_input_maximum',
                field=field, value=value, maximum=maximum))
    return value


def date(value, field, required=True):
    "A date from a date or an ISO string (YYYY-MM-DD)"
    if value is None or value == '':
        if required:
            raise InputError(gettext('distributor.msg_input_required',
                    field=field))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(gettext('distributor.msg_input_date',
            field=field, value=_short(value)))


def text(value, field, size=None, required=False, multiline=True):
    """A text without control characters, stripped, at most size
    characters (the configured text length by default); None when empty
    and not required"""
    if value is None or value == '':
        if required:
            raise InputError(gettext('distributor.msg_input_required',
                    field=field))
        return None
    if not isinstance(value, str):
        raise InputError(gettext('distributor.msg_input_text',
                field=field, value=_short(value)))
    if size is None:
        size = limits().max_text_length
    if len(value) > size:
        raise InputError(gettext('distributor.msg_input_text_size',
                field=field, size=size, length=len(value)))
    check_characters(value, field, multiline=multiline)
    value = value.strip()
    if not value:
        if required:
            raise InputError(gettext('distributor.msg_input_required',
                    field=field))
        return None
    return value


def check_characters(value, field, multiline=True):
    "Refuse control and bidirectional formatting characters"
    for char in value:
        if char in _LINE_BREAKS and multiline:
            continue
        if char in _BIDI or unicodedata.category(char) == 'Cc':
            raise InputError(gettext('distributor.msg_input_control',
                    field=field, code=f'U+{ord(char):04X}'))


def choice(value, field, selection):
    "One of the keys of selection (a list of (key, label) or keys)"
    keys = [s[0] if isinstance(s, (list, tuple)) else s for s in selection]
    if not isinstance(value, str) or value not in keys:
        raise InputError(gettext('distributor.msg_input_choice',
                field=field, value=_short(value),
                choices=', '.join(k for k in keys if k)))
    return value


def flag(value, field):
    if not isinstance(value, bool):
        raise InputError(gettext('distributor.msg_input_flag',
                field=field, value=_short(value)))
    return value


def lines(values, field, required=True):
    """A list of dicts, at most the configured lines per document"""
    if values is None and not required:
        return []
    if not isinstance(values, (list, tuple)):
        raise InputError(gettext('distributor.msg_input_lines',
                field=field))
    if required and not values:
        raise InputError(gettext('distributor.msg_input_required',
                field=field))
    maximum = limits().max_lines
    if len(values) > maximum:
        raise InputError(gettext('distributor.msg_input_too_many_lines',
                field=field, maximum=maximum, count=len(values)))
    for value in values:
        if not isinstance(value, dict):
            raise InputError(gettext('distributor.msg_input_lines',
                    field=field))
    return list(values)


def keys(value, field, allowed):
    "Refuse the keys of a dict from outside that are not allowed"
    if not isinstance(value, dict):
        raise InputError(gettext('distributor.msg_input_mapping',
                field=field))
    unknown = sorted(set(map(str, value)) - set(allowed))
    if unknown:
        raise InputError(gettext('distributor.msg_input_unknown_key',
                field=field, key=_short(unknown[0])))
    return value


def id_mapping(value, field):
    """{id: value} from a dict whose keys are ids (JSON gives strings),
    at most the configured lines per document"""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(gettext('distributor.msg_input_mapping',
                field=field))
    if len(value) > limits().max_lines:
        raise InputError(gettext('distributor.msg_input_too_many_lines',
                field=field, maximum=limits().max_lines, count=len(value)))
    result = {}
    for key, item in value.items():
        if isinstance(key, str) and key.strip().isdigit():
            key = int(key)
        if isinstance(key, bool) or not isinstance(key, int):
            raise InputError(gettext('distributor.msg_input_id',
                    field=field, value=_short(key)))
        result[key] = item
    return result


def check_record_fields(records, field_names=None):
    """The document fields of records: text bounded and clean, numbers
    finite and within the configured maxima (called on every write)"""
    if not records:
        return
    Model = records[0].__class__
    config = limits()
    checks = []
    for name, field in Model._fields.items():
        if field_names is not None and name not in field_names:
            continue
        if isinstance(field, fields.Function) or name in {
                'create_date', 'write_date', 'rec_name'}:
            continue
        type_ = field._type
        if type_ in {'char', 'text'} and not getattr(field, 'translate',
                False):
            size = field.size if isinstance(field.size, int) else (
                CHAR_SIZE if type_ == 'char' else config.max_text_length)
            checks.append((name, field, type_, size))
        elif type_ in {'float', 'numeric'}:
            checks.append((name, field, type_, None))
    if not checks:
        return
    for record in records:
        for name, field, type_, size in checks:
            value = getattr(record, name, None)
            if value is None:
                continue
            label = field.string
            if type_ in {'char', 'text'}:
                if len(value) > size:
                    raise InputError(gettext(
                            'distributor.msg_input_text_size',
                            field=label, size=size, length=len(value)))
                check_characters(value, label, multiline=type_ == 'text')
            else:
                if isinstance(value, float) and not math.isfinite(value):
                    raise InputError(gettext('distributor.msg_input_number',
                            field=label, value=value))
                if isinstance(value, Decimal) and not value.is_finite():
                    raise InputError(gettext('distributor.msg_input_number',
                            field=label, value=value))
                maximum = (config.max_quantity if type_ == 'float'
                    else config.max_amount)
                if abs(value) > maximum:
                    raise InputError(gettext(
                            'distributor.msg_input_maximum',
                            field=label, value=value, maximum=maximum))
