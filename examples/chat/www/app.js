// The chat page: subscribes to messageAdded on the edge that serves it,
// with graphql-ws's client, and shows each message as it arrives.
//
// Signing in (with mutation=): the sign-in box calls the server's login
// mutation, which returns a token for the edge (a JWT). The page then
// connects again with the token in connectionParams, subscribes to its
// private channel (direct, the edge's topic dm.NAME), and keeps the token
// fresh with Herald's refresh extension (vendor/refresh.js, a copy of
// examples/auth/refresh.mjs): before the token expires it logs in again
// and sends the new token in a ping, on the same socket. Without signing
// in the page reads the public channels only.
//
// Query parameters:
//   channel=NAME       the channel to join (default general)
//   mutation=URL       a GraphQL server whose sendMessage, login and
//                      sendDirect mutations the page uses (the example
//                      servers); without it the page only listens.
import { createRefreshingClient, expiresAt } from './vendor/refresh.js';

const params = new URLSearchParams(location.search);
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
const mutationUrl = params.get('mutation');

const $ = (id) => document.getElementById(id);
const statusEl = $('status');

const SUBSCRIPTION = `
  subscription OnMessage($channel: String!) {
    messageAdded(channel: $channel) { id channel text sentAt author { name } }
  }`;
const DIRECT = 'subscription OnDirect { direct { id channel text sentAt author { name } } }';
const LOGIN = 'mutation Login($name: String!) { login(name: $name) }';

// GraphQL errors (say, an event the schema cannot render) are shown on the
// page, latest first replacing the last, so that a wrong event is seen.
function showError(text) {
  const el = $('errors');
  el.textContent = text;
  el.hidden = false;
}
const showErrors = (errors) => showError(`GraphQL error: ${errors.map((e) => e.message).join('; ')}`);

// The terminal command that publishes a message this page shows.
function hintCommand(channel) {
  const event = { id: '1', channel, text: 'hello', author: { name: 'me' } };
  return `build/libclient/herald pub chat.${channel} '${JSON.stringify(event)}'`;
}

function setStatus(text, ok) {
  statusEl.textContent = text;
  statusEl.className = `status ${ok ? 'ok' : 'down'}`;
}

// A GraphQL request to the mutation server; its data, or an Error with
// the first GraphQL error's message.
async function request(query, variables) {
  const res = await fetch(mutationUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(body.errors[0].message);
  return body.data;
}

// The signed-in user: { name, token, refreshBeforeMs }, or null.
let user = null;

// A token for connectionParams and for the refresh ping: the one in hand,
// unless it is near its expiry (refresh.mjs asks refreshBeforeMs before
// it), then a fresh one from login.
async function getToken() {
  if (!user.token || expiresAt(user.token) - Date.now() <= user.refreshBeforeMs + 1000)
    user.token = (await request(LOGIN, { name: user.name })).login;
  return user.token;
}

let client = null;
let unsubscribe = null;
let unsubscribeDirect = null;

// (Re)connects: anonymously, or with the signed-in user's token; then
// subscribes again to the channel and, signed in, to the private channel.
function connect() {
  unsubscribe?.();
  unsubscribeDirect?.();
  unsubscribeDirect = null;
  client?.dispose();
  const options = {
    url: wsUrl,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: {
      // A disposed client's events are not this page's any more.
      connected: () => client === self && setStatus(user ? `live · ${user.name}` : 'live', true),
      closed: (event) => {
        if (client !== self) return;
        if (user && event?.code === 4403) user.token = null;    // refused: log in again
        setStatus('reconnecting…', false);
      },
    },
  };
  const self = user
    ? createRefreshingClient(graphqlWs.createClient, { ...options, getToken, refreshBeforeMs: user.refreshBeforeMs })
    : graphqlWs.createClient(options);
  client = self;
  join($('channel').value);
  if (user) listenDirect();
}

function show(list, message, sentTo) {
  const li = document.createElement('li');
  li.className = sentTo ? 'message sent' : 'message';
  li.dataset.id = message.id;
  const who = document.createElement('strong');
  if (sentTo) who.textContent = `→ ${sentTo}`;
  else who.textContent = message.author ? message.author.name : 'anonymous';
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = message.text;
  li.append(who, ' ', text);
  list.append(li);
  li.scrollIntoView({ block: 'end' });
}

// A sink for client.subscribe that shows field's results in list.
function sink(field, list, empty) {
  return {
    next: ({ data, errors }) => {
      if (data && data[field]) {
        empty.hidden = true;
        show(list, data[field]);
      }
      if (errors) showErrors(errors);
    },
    error: (err) => {
      if (Array.isArray(err)) showErrors(err);     // the subscription was refused
      else setStatus(`error: ${err.message || err}`, false);
    },
    complete: () => {},
  };
}

function join(channel) {
  unsubscribe?.();
  $('messages').replaceChildren();
  $('empty').hidden = false;
  $('errors').hidden = true;
  $('hint-command').textContent = hintCommand(channel);
  document.title = `#${channel} · Herald chat`;
  unsubscribe = client.subscribe({ query: SUBSCRIPTION, variables: { channel } },
    sink('messageAdded', $('messages'), $('empty')));
}

function listenDirect() {
  unsubscribeDirect = client.subscribe({ query: DIRECT }, sink('direct', $('direct'), $('direct-empty')));
}

async function signIn(name) {
  let token;
  try {
    token = (await request(LOGIN, { name })).login;
  } catch (err) {
    showError(`sign-in failed: ${err.message}`);
    return;
  }
  $('errors').hidden = true;
  // Refresh 30 s before expiry, or a third of the lifetime of a
  // short-lived token.
  const lifetime = expiresAt(token) - Date.now();
  user = { name, token, refreshBeforeMs: Math.min(30000, Math.max(1000, lifetime / 3)) };
  localStorage.setItem('herald-name', name);
  $('whoami').textContent = name;
  $('author').value = name;
  $('direct').replaceChildren();
  $('direct-empty').hidden = false;
  $('private').hidden = false;
  connect();
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
    try {
      await request(`mutation Send($channel: String!, $text: String!, $author: String!) {
          sendMessage(channel: $channel, text: $text, author: $author) { id }
        }`, { channel: $('channel').value, text: $('text').value, author: $('author').value });
      $('text').value = '';
    } catch (err) {
      setStatus(`send failed: ${err.message}`, false);
    }
  });

  $('login-form').hidden = false;
  $('login-name').value = localStorage.getItem('herald-name') || '';
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    signIn($('login-name').value);
  });
  $('direct-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const to = $('direct-to').value;
    try {
      const { sendDirect } = await request(`mutation Direct($to: String!, $text: String!, $author: String!) {
          sendDirect(to: $to, text: $text, author: $author) { id text }
        }`, { to, text: $('direct-text').value, author: user.name });
      $('direct-empty').hidden = true;
      show($('direct'), sendDirect, to);
      $('direct-text').value = '';
    } catch (err) {
      showError(`send failed: ${err.message}`);
    }
  });
}

connect();
