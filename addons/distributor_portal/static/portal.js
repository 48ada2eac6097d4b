// Progressive enhancement: every page works without this file.
(function () {
  'use strict';
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/portal/sw.js', {scope: '/portal/'})
      .catch(() => {});
  }
  // confirm buttons that say so
  document.addEventListener('submit', event => {
    const form = event.target;
    const question = form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // one submission per form: a second click waits for the first
    if (form.dataset.submitted) {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = '1';
    form.querySelectorAll('button[type=submit]').forEach(b => {
      b.classList.add('busy');
    });
  });
  // "select all" boxes of lists with bulk actions
  document.querySelectorAll('input[data-select-all]').forEach(box => {
    box.addEventListener('change', () => {
      const name = box.getAttribute('data-select-all');
      document.querySelectorAll(`input[name="${name}"]`).forEach(item => {
        item.checked = box.checked;
      });
    });
  });
  // catalogue: live line totals and the cart total
  const cart = document.querySelector('form[data-cart]');
  if (cart) {
    const update = () => {
      let total = 0;
      cart.querySelectorAll('[data-price]').forEach(row => {
        const input = row.querySelector('input[type=number]');
        const price = parseFloat(row.getAttribute('data-price')) || 0;
        const qty = parseFloat(input && input.value) || 0;
        total += price * qty;
        const cell = row.querySelector('[data-line-total]');
        if (cell) {
          cell.textContent = qty ? (price * qty).toFixed(2) : '';
        }
      });
      const out = cart.querySelector('[data-cart-total]');
      if (out) {
        out.textContent = total.toFixed(2);
      }
    };
    cart.addEventListener('input', update);
    update();
  }
  // list filters: narrow rows as one types
  document.querySelectorAll('input[data-filter]').forEach(input => {
    const rows = document.querySelectorAll(input.getAttribute('data-filter'));
    input.addEventListener('input', () => {
      const text = input.value.trim().toLowerCase();
      rows.forEach(row => {
        row.hidden = text && !row.textContent.toLowerCase().includes(text);
      });
    });
  });
}());
