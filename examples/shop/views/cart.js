const { escapeHtml, money } = require('./format');

function cartPage(items, total) {
  if (items.length === 0) return '<h2>Your cart</h2><p>Your cart is empty. <a href="/">Go shopping</a>.</p>';
  const rows = items
    .map(
      (item) => `<tr>
  <td>${escapeHtml(item.name)}</td>
  <td>
    <form method="post" action="/cart/update" class="inline">
      <input type="hidden" name="product" value="${item.id}">
      <input type="number" name="qty" min="0" value="${item.qty}"><button>Update</button>
    </form>
  </td>
  <td>${money(item.price * item.qty)}</td>
  <td>
    <form method="post" action="/cart/update" class="inline">
      <input type="hidden" name="product" value="${item.id}">
      <input type="hidden" name="qty" value="0"><button>Remove</button>
    </form>
  </td>
</tr>`,
    )
    .join('\n');
  return `<h2>Your cart</h2>
<table class="cart">
  <tr><th>Product</th><th>Quantity</th><th>Price</th><th></th></tr>
  ${rows}
  <tr class="total"><td>Total</td><td></td><td>${money(total)}</td><td></td></tr>
</table>`;
}

module.exports = { cartPage };
