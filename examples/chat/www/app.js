// The chat page: subscribes to messageAdded on the edge that serves it,
// with graphql-ws's client, and shows each message as it arrives.
//
// Query parameters:
//   channel=NAME       the channel to join (default general)
//   mutation=URL       a GraphQL server whose sendMessage mutation the
//                      send box uses (the example servers); without it the
//                      page only listens.
'use strict';

const params = new URLSearchParams(location.search);
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
const mutationUrl = params.get('mutation');

const $ = (id) => document.getElementById(id);
const list = $('messages');
const statusEl = $('status');

const SUBSCRIPTION = `
  subscription OnMessage($channel: String!) {
    messageAdded(channel: $channel) { id channel text sentAt author { name } }
  }`;

// GraphQL errors (say, an event the schema cannot render) are shown on the
// page, latest first replacing the last, so that a wrong event is seen.
function showErrors(errors) {
  const el = $('errors');
  el.textContent = `GraphQL error: ${errors.map((e) => e.message).join('; ')}`;
  el.hidden = false;
}

// The terminal command that publishes a message this page shows.
function hintCommand(channel) {
  const event = { id: '1', channel, text: 'hello', author: { name: 'me' } };
  return `build/libclient/herald pub chat.${channel} '${JSON.stringify(event)}'`;
}

function setStatus(text, ok) {
  statusEl.textContent = text;
  statusEl.className = `status ${ok ? 'ok' : 'down'}`;
}

const client = graphqlWs.createClient({
  url: wsUrl,
  retryAttempts: Infinity,
  shouldRetry: () => true,
  on: {
    connected: () => setStatus('live', true),
    closed: () => setStatus('reconnecting…', false),
  },
});

let unsubscribe = null;

function show(message) {
  $('empty').hidden = true;
  const li = document.createElement('li');
  li.className = 'message';
  li.dataset.id = message.id;
  const who = document.createElement('strong');
  who.textContent = message.author ? message.author.name : 'anonymous';
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = message.text;
  li.append(who, ' ', text);
  list.append(li);
  li.scrollIntoView({ block: 'end' });
}

function join(channel) {
  if (unsubscribe) unsubscribe();
  list.replaceChildren();
  $('empty').hidden = false;
  $('errors').hidden = true;
  $('hint-command').textContent = hintCommand(channel);
  document.title = `#${channel} · Herald chat`;
  unsubscribe = client.subscribe(
    { query: SUBSCRIPTION, variables: { channel } },
    {
      next: ({ data, errors }) => {
        if (data && data.messageAdded) show(data.messageAdded);
        if (errors) showErrors(errors);
      },
      error: (err) => {
        if (Array.isArray(err)) showErrors(err);     // the subscription was refused
        else setStatus(`error: ${err.message || err}`, false);
      },
      complete: () => {},
    },
  );
}

$('channel').value = params.get('channel') || 'general';
$('channel-form').addEventListener('submit', (e) => {
  e.preventDefault();
  join($('channel').value);
});

if (mutationUrl) {
  const form = $('send-form');
  form.hidden = false;
  $('author').value = localStorage.getItem('herald-author') || '';
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    localStorage.setItem('herald-author', $('author').value);
    const res = await fetch(mutationUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation Send($channel: String!, $text: String!, $author: String!) {
          sendMessage(channel: $channel, text: $text, author: $author) { id }
        }`,
        variables: { channel: $('channel').value, text: $('text').value, author: $('author').value },
      }),
    });
    const body = await res.json();
    if (body.errors) setStatus(`send failed: ${body.errors[0].message}`, false);
    else $('text').value = '';
  });
}

join($('channel').value);
