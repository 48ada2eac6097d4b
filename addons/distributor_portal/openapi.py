# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The OpenAPI 3.1 document of /portal/api/v1/, built from the declared
endpoints (web.api): paths, methods, bodies (the same JSON schemas that
refuse bad bodies), pagination, authentication and error answers."""
import re

from . import web

ERROR = {
    'type': 'object',
    'properties': {
        'code': {'type': 'string'},
        'message': {'type': 'string'},
        'details': {'type': 'object'},
        },
    'required': ['code', 'message', 'details'],
    }
PAGE = {
    'type': 'object',
    'properties': {
        'items': {'type': 'array'},
        'total': {'type': 'integer', 'minimum': 0},
        'offset': {'type': 'integer', 'minimum': 0},
        'limit': {'type': 'integer', 'minimum': 1},
        },
    'required': ['items', 'total', 'offset', 'limit'],
    }
ERRORS = {
    '400': "Malformed or invalid input",
    '401': "Not signed in, or the session has ended",
    '403': "The account's role may not do this, or the CSRF token is "
    "missing",
    '404': "No such record within the caller's reach",
    '409': "The same submission is still being processed",
    '413': "The body is too large",
    '422': "Refused by a business rule",
    '429': "Too many failed sign-ins",
    '503': "The server is busy; nothing was saved",
    }
_PARAM = re.compile(r'<(?:(\w+):)?(\w+)>')


def _path(path):
    return _PARAM.sub(lambda m: '{%s}' % m.group(2), path)


def _parameters(route):
    parameters = []
    for converter, name in _PARAM.findall(route.path):
        parameters.append({
                'name': name, 'in': 'path', 'required': True,
                'schema': ({'type': 'integer', 'minimum': 1,
                        'maximum': 2 ** 31 - 1}
                    if converter == 'int' else {'type': 'string'}),
                })
    for name, schema in route.query.items():
        parameters.append({
                'name': name, 'in': 'query', 'required': False,
                'schema': schema})
    if route.paginated:
        parameters += [
            {'name': 'offset', 'in': 'query', 'required': False,
                'schema': {'type': 'integer', 'minimum': 0,
                    'maximum': 2 ** 31 - 1}},
            {'name': 'limit', 'in': 'query', 'required': False,
                'schema': {'type': 'integer', 'minimum': 1,
                    'maximum': web.MAX_LIMIT}},
            ]
    if route.idempotent:
        parameters.append({
                'name': 'Idempotency-Key', 'in': 'header', 'required': False,
                'description': "Retrying with the same key answers the "
                "first answer again and never makes a second document",
                'schema': {'type': 'string', 'minLength': 8,
                    'maxLength': 200}})
    return parameters


def document(modules=None):
    "The OpenAPI document of the endpoints (of the modules given)"
    paths = {}
    for route in web.ROUTES:
        if route.kind != 'api':
            continue
        if modules is not None and route.module not in modules:
            continue
        item = paths.setdefault(_path(route.path), {})
        for method in route.methods:
            success = route.response or (PAGE if route.paginated
                else {'type': 'object'})
            operation = {
                'operationId': f'{method.lower()}_{route.name}',
                'summary': route.summary,
                'tags': [route.tag] if route.tag else [],
                'parameters': _parameters(route),
                'responses': {
                    '200': {'description': "Done",
                        'content': {'application/json': {
                                'schema': success}}},
                    '201': {'description': "Created",
                        'content': {'application/json': {
                                'schema': {'type': 'object'}}}},
                    **{status: {'description': text,
                            'content': {'application/json': {
                                    'schema': ERROR}}}
                        for status, text in ERRORS.items()},
                    },
                }
            if route.auth:
                operation['security'] = [
                    {'session': [], 'csrf': []}, {'token': []}]
            else:
                operation['security'] = []
            if route.roles is not None:
                operation['description'] = (
                    "Roles: admin, " + ', '.join(sorted(route.roles))
                    + ". Parties: " + ', '.join(sorted(route.kinds)))
            if route.body is not None:
                operation['requestBody'] = {
                    'required': True,
                    'content': {'application/json': {
                            'schema': route.body}},
                    }
            item[method.lower()] = operation
    return {
        'openapi': '3.1.0',
        'info': {
            'title': "DMS portal API",
            'version': '1',
            'description': "What distributors and stores do in the "
            "portal, for a mini-program, an app or another system. "
            "Authenticate with the session of POST /session (and send "
            "its csrf_token as X-CSRF-Token on writing calls) or with an "
            "API token as Authorization: Bearer TOKEN.",
            },
        'servers': [{'url': '/'}],
        'paths': paths,
        'components': {
            'securitySchemes': {
                'session': {'type': 'apiKey', 'in': 'cookie',
                    'name': web.SESSION_COOKIE},
                'csrf': {'type': 'apiKey', 'in': 'header',
                    'name': 'X-CSRF-Token'},
                'token': {'type': 'http', 'scheme': 'bearer'},
                },
            'schemas': {'Error': ERROR, 'Page': PAGE},
            },
        }
