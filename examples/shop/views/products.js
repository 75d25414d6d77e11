const { escapeHtml, money } = require('./format');

function productsPage(products) {
  const rows = products
    .map(
      (p) => `<li class="product">
  <span class="name">${escapeHtml(p.name)}</span>
  <span class="price">${money(p.price)}</span>
  <span class="stock" data-stock="${p.id}">${p.stock} in stock</span>
  <form method="post" action="/cart/add" class="inline">
    <input type="hidden" name="product" value="${p.id}">
    <button${p.stock > 0 ? '' : ' disabled'}>Add to cart</button>
  </form>
</li>`,
    )
    .join('\n');
  return `<h2>Products</h2>
<ul class="products">${rows}</ul>
<section class="chat">
  <h2>Shop chat</h2>
  <ul id="chat-log"></ul>
  <form id="chat-form"><input name="text" maxlength="200" autocomplete="off" placeholder="Say hi"><button>Send</button></form>
</section>`;
}

module.exports = { productsPage };
