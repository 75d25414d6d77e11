const { escapeHtml } = require('./format');

// Change this line, save, and watch a new generation take over new tabs while open ones keep theirs.
const BANNER = 'Welcome to the Baton shop';

function layout({ title, user, cartCount, body }) {
  const account = user
    ? `<span>Hi, ${escapeHtml(user)}</span>
       <form method="post" action="/logout" class="inline"><button>Log out</button></form>`
    : '<a href="/login">Log in</a>';
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} · Baton shop</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/style.css">
  <script src="/app.js" defer></script>
</head>
<body>
  <header>
    <h1><a href="/">${BANNER}</a></h1>
    <nav><a href="/cart">Cart (${cartCount})</a> ${account}</nav>
  </header>
  <p id="ticker" class="ticker">connecting to the live feed…</p>
  <main>${body}</main>
  <footer>generation ${escapeHtml(process.env.BATON_GENERATION || 'none')} · pid ${process.pid}</footer>
</body>
</html>`;
}

module.exports = { layout };
