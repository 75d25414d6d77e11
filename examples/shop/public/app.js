// Browser side of the live features: the SSE ticker on every page, the WebSocket chat on the product list.
const ticker = document.getElementById('ticker');
const events = new EventSource('/events');
events.onmessage = (event) => {
  const { generation, viewers, stock } = JSON.parse(event.data);
  ticker.textContent = `${viewers} ${viewers === 1 ? 'person' : 'people'} viewing · live from generation ${generation ?? 'none'}`;
  for (const el of document.querySelectorAll('[data-stock]')) {
    el.textContent = `${stock[el.dataset.stock]} in stock`;
  }
};
events.onerror = () => (ticker.textContent = 'live feed reconnecting…');

const chatForm = document.getElementById('chat-form');
if (chatForm) {
  const log = document.getElementById('chat-log');
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  const say = (text) => log.appendChild(document.createElement('li')).append(text);
  socket.onmessage = (event) => {
    const { from, text, generation } = JSON.parse(event.data);
    say(`${from} (gen ${generation ?? 'none'}): ${text}`);
  };
  socket.onclose = () => say('— chat disconnected —');
  chatForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = chatForm.elements.text;
    if (input.value.trim() && socket.readyState === WebSocket.OPEN) socket.send(input.value);
    input.value = '';
  });
}
