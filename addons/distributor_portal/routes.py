# This file is part of the DMS project.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The portal's routes on trytond's WSGI application: the pages and
endpoints of each area (their own files), the static shell (styles,
scripts, the web app manifest and the service worker), the vendored npm
assets and the OpenAPI document."""
import mimetypes
import os

from werkzeug.exceptions import NotFound
from werkzeug.utils import safe_join
from werkzeug.wrappers import Response

from trytond.config import config
from trytond.pool import Pool
from trytond.wsgi import app

from . import account, home, messages, orders, sales, stock, stores  # noqa
from . import web
from .openapi import document

HERE = os.path.dirname(__file__)
STATIC = os.path.join(HERE, 'static')
# the npm packages the pages use (./dms run installs them): the file each
# page loads, by the name it loads it as
VENDOR = {
    'chart.js': ('chart.js', 'dist/chart.umd.js'),
    'zxing-browser.js': ('@zxing/browser', 'umd/zxing-browser.min.js'),
    }


def vendor_root():
    "[portal] vendor, or var/portal/node_modules of the checkout"
    root = config.get('portal', 'vendor', default=None)
    if root:
        return root
    return os.path.normpath(os.path.join(
            HERE, '..', '..', 'var', 'portal', 'node_modules'))


def _file_response(path, max_age=3600):
    if not path or not os.path.isfile(path):
        raise NotFound()
    mimetype = mimetypes.guess_type(path)[0] or 'application/octet-stream'
    if path.endswith('.webmanifest'):
        mimetype = 'application/manifest+json'
    with open(path, 'rb') as file:
        data = file.read()
    response = Response(data, mimetype=mimetype)
    response.headers['Cache-Control'] = f'public, max-age={max_age}'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response


@app.route(web.PREFIX + '/static/<path:name>', methods=['GET', 'HEAD'])
def static(request, name):
    if name.startswith('vendor/'):
        package, file = VENDOR.get(name[len('vendor/'):], (None, None))
        if package is None:
            raise NotFound()
        return _file_response(
            safe_join(vendor_root(), package, file), max_age=86400)
    return _file_response(safe_join(STATIC, name))


@app.route(web.PREFIX + '/sw.js', methods=['GET', 'HEAD'])
def service_worker(request):
    "The service worker, served from /portal/ so that its scope is there"
    response = _file_response(os.path.join(STATIC, 'sw.js'), max_age=0)
    response.headers['Cache-Control'] = 'no-cache'
    return response


@app.route(web.PREFIX + '/manifest.webmanifest', methods=['GET', 'HEAD'])
def manifest(request):
    return _file_response(os.path.join(STATIC, 'manifest.webmanifest'))


@app.route(web.API + '/openapi.json', methods=['GET', 'HEAD'])
def openapi(request):
    "The endpoints of the modules activated on the portal's database"
    database = web.portal_database()
    modules = None
    if database and database in Pool.database_list():
        modules = set(Pool(database)._modules)
    return web.json_response(document(modules))
