// Shared by every template: anything that came from a user goes through escapeHtml.
const escapes = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (ch) => escapes[ch]);
}

function money(cents) {
  return `$${(cents / 100).toFixed(2)}`;
}

module.exports = { escapeHtml, money };
