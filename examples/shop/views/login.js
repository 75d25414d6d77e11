const { escapeHtml } = require('./format');

function loginPage(error) {
  return `<h2>Log in</h2>
<p>Any name will do: this is a demo, there are no passwords.</p>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login">
  <input name="name" maxlength="40" placeholder="Your name" autofocus><button>Log in</button>
</form>`;
}

module.exports = { loginPage };
