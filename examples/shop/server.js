// The Baton demo shop: Express 5 with in-memory sessions, a live SSE ticker and a WebSocket chat.
// All state lives in this process, which is exactly what Baton keeps alive for open tabs.
const http = require('node:http');
const path = require('node:path');
const express = require('express');
const session = require('express-session');
const { WebSocketServer } = require('ws');
const { layout } = require('./views/layout');
const { productsPage } = require('./views/products');
const { cartPage } = require('./views/cart');
const { loginPage } = require('./views/login');

const products = [
  { id: 'mug', name: 'Baton mug', price: 1200, stock: 25 },
  { id: 'tee', name: 'Relay T-shirt', price: 2400, stock: 12 },
  { id: 'sticker', name: 'Sticker pack', price: 400, stock: 100 },
  { id: 'cap', name: 'Finish-line cap', price: 1800, stock: 8 },
];
const byId = new Map(products.map((p) => [p.id, p]));

// Sets one cart line, taking from (or giving back to) the shared stock; false for an unknown product.
function setQuantity(sess, id, wanted) {
  const product = byId.get(id);
  if (!product || !Number.isInteger(wanted) || wanted < 0) return false;
  const cart = (sess.cart ??= {});
  const current = cart[id] ?? 0;
  const qty = Math.min(wanted, current + product.stock);
  product.stock -= qty - current;
  if (qty === 0) delete cart[id];
  else cart[id] = qty;
  return true;
}

function cartOf(sess) {
  const items = Object.entries(sess.cart ?? {}).map(([id, qty]) => {
    const { name, price } = byId.get(id);
    return { id, name, price, qty };
  });
  const total = items.reduce((sum, item) => sum + item.price * item.qty, 0);
  const count = items.reduce((sum, item) => sum + item.qty, 0);
  return { user: sess.user ?? null, items, count, total };
}

function render(req, res, title, body) {
  res
    .type('html')
    .send(layout({ title, user: req.session.user, cartCount: cartOf(req.session).count, body }));
}

const app = express();
const sessions = session({ secret: 'baton-demo-secret', resave: false, saveUninitialized: false });

// Before the session middleware, so that health checks and static files never create a session.
app.get('/healthz', (_req, res) => res.type('text').send('ok'));
app.use(express.static(path.join(__dirname, 'public')));
app.use(sessions, express.urlencoded({ extended: false }), express.json());

app.get('/', (req, res) => render(req, res, 'Products', productsPage(products)));
app.get('/cart', (req, res) => {
  const { items, total } = cartOf(req.session);
  render(req, res, 'Cart', cartPage(items, total));
});
app.post('/cart/add', (req, res) => {
  const id = req.body?.product;
  setQuantity(req.session, id, (req.session.cart?.[id] ?? 0) + 1);
  res.redirect(303, '/');
});
app.post('/cart/update', (req, res) => {
  setQuantity(req.session, req.body?.product, Number(req.body?.qty));
  res.redirect(303, '/cart');
});

app.get('/login', (req, res) => render(req, res, 'Log in', loginPage()));
app.post('/login', (req, res, next) => {
  const name = String(req.body?.name ?? '').trim();
  if (!name) return render(req, res.status(400), 'Log in', loginPage('Please enter a name.'));
  // A new session id on login (no session fixation), keeping the cart picked so far.
  const cart = req.session.cart;
  req.session.regenerate((err) => {
    if (err) return next(err);
    Object.assign(req.session, { user: name.slice(0, 40), cart });
    res.redirect(303, '/');
  });
});
app.post('/logout', (req, res, next) => {
  for (const id of Object.keys(req.session.cart ?? {})) setQuantity(req.session, id, 0);
  req.session.destroy((err) => {
    if (err) return next(err);
    res.clearCookie('connect.sid'); // Baton sees this cookie removed and ends the tab's session
    res.redirect(303, '/');
  });
});

app.get('/api/cart', (req, res) => res.json(cartOf(req.session)));
app.post('/api/cart', (req, res) => {
  const id = req.body?.product;
  if (!setQuantity(req.session, id, (req.session.cart?.[id] ?? 0) + 1)) {
    const known = products.map((p) => p.id).join(', ');
    return res
      .status(400)
      .json({ error: `unknown product ${JSON.stringify(id)}: send {"product": id}, id one of ${known}` });
  }
  res.json(cartOf(req.session));
});

// Live ticker over server-sent events: how many people are watching, and the stock as it changes.
const viewers = new Set();
function tick() {
  const stock = Object.fromEntries(products.map((p) => [p.id, p.stock]));
  const data = JSON.stringify({
    generation: process.env.BATON_GENERATION ?? null,
    viewers: viewers.size,
    stock,
  });
  for (const res of viewers) res.write(`data: ${data}\n\n`);
}
const ticker = setInterval(tick, 1000);
app.get('/events', (req, res) => {
  res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  viewers.add(res);
  req.on('close', () => viewers.delete(res));
  tick();
});

const server = http.createServer(app);

// A shared chat over WebSocket; the last messages are kept in memory, so they live as long as this generation.
const chat = new WebSocketServer({ noServer: true, maxPayload: 1024 });
const history = [];
server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => socket.destroy()); // a client reset while the session loads must not crash us
  if (new URL(req.url, 'http://x').pathname !== '/ws') return socket.destroy();
  sessions(req, {}, () => chat.handleUpgrade(req, socket, head, (ws) => chat.emit('connection', ws, req)));
});
chat.on('connection', (ws, req) => {
  const from = req.session?.user ?? 'guest';
  for (const message of history) ws.send(message);
  ws.on('message', (raw) => {
    const text = raw.toString().trim().slice(0, 200);
    if (!text) return;
    const message = JSON.stringify({ from, text, generation: process.env.BATON_GENERATION ?? null });
    history.push(message);
    if (history.length > 20) history.shift();
    for (const client of chat.clients) client.send(message);
  });
});

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 3000);
server.listen(port, host, () => {
  console.log(`shop generation ${process.env.BATON_GENERATION ?? '-'} listening on http://${host}:${port}`);
});

// Close everything that keeps the event loop alive, so the process exits on its own.
function shutdown() {
  clearInterval(ticker);
  for (const client of chat.clients) client.terminate();
  server.close();
  server.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
