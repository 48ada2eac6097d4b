# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The JSON bodies the API takes: one JSON schema per endpoint, used both
to refuse a bad body before anything runs and in the OpenAPI document.

Helpers build the usual shapes; objects refuse unknown fields."""
from decimal import Decimal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

_VALIDATORS = {}


def validate(data, schema):
    "The first problem of data against schema, or None"
    key = id(schema)
    validator = _VALIDATORS.get(key)
    if validator is None:
        validator = _VALIDATORS[key] = Draft202012Validator(
            schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    error = best_match(validator.iter_errors(_plain(data)))
    if error is None:
        return None
    where = '/'.join(str(p) for p in error.absolute_path) or 'body'
    return f'{where}: {error.message}'[:300]


def _plain(value):
    "Decimals (parse_float) as floats for the validator's number checks"
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def obj(required=(), **properties):
    "An object with these properties and no other"
    return {
        'type': 'object',
        'properties': properties,
        'required': list(required),
        'additionalProperties': False,
        }


def array(items, max_items=500, min_items=0):
    return {'type': 'array', 'items': items, 'maxItems': max_items,
        'minItems': min_items}


ID = {'type': 'integer', 'minimum': 1, 'maximum': 2 ** 31 - 1}
IDS = array(ID, min_items=1)
QUANTITY = {'type': 'number', 'exclusiveMinimum': 0, 'maximum': 1e9}
QUANTITY_OR_ZERO = {'type': 'number', 'minimum': 0, 'maximum': 1e9}
AMOUNT = {'type': 'number', 'minimum': 0, 'maximum': 1e12}
TEXT = {'type': 'string', 'maxLength': 4000}
SHORT = {'type': 'string', 'maxLength': 200}
DATE = {'type': 'string', 'format': 'date'}
REASON = {'type': 'string', 'minLength': 1, 'maxLength': 4000}
