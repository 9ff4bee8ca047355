// refresh.mjs: a graphql-ws client whose token stays fresh on Herald's edge.
//
// Two things keep it signed in (docs/edge.md, "Authentication"):
// - connectionParams fetches a token at every connect, so a reconnect
//   (after the edge closes 4403 at the token's exp) brings a new one;
// - before the token expires, a timer sends a fresh one in a ping,
//   {"type": "ping", "payload": {"token": ...}}, Herald's refresh
//   extension: the socket and its subscriptions stay open.
//
// createClient is graphql-ws's; getToken() returns (a promise of) a JWT.
// Works in browsers and in Node (pass webSocketImpl there); the chat page
// (examples/chat/www/app.js) loads it as vendor/refresh.js.

// The token's exp, in ms, read from its claims (not checked here: the
// edge checks it).
export function expiresAt(token) {
  const claims = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(claims)).exp * 1000;
}

export function createRefreshingClient(createClient, { getToken, refreshBeforeMs = 30000, ...options }) {
  let socket = null;
  let timer = null;

  function schedule(token) {
    clearTimeout(timer);
    const wait = Math.max(0, expiresAt(token) - Date.now() - refreshBeforeMs);
    timer = setTimeout(async () => {
      const fresh = await getToken();
      if (socket?.readyState === 1)
        socket.send(JSON.stringify({ type: 'ping', payload: { token: fresh } }));
      schedule(fresh);
    }, wait);
  }

  const client = createClient({
    ...options,
    // 4403 (a refused or expired token) is one that graphql-ws retries.
    connectionParams: async () => {
      const token = await getToken();
      schedule(token);
      return { token };
    },
    on: {
      ...options.on,
      opened: (s) => { socket = s; options.on?.opened?.(s); },
      closed: (event) => { socket = null; clearTimeout(timer); options.on?.closed?.(event); },
    },
  });
  return {
    ...client,
    dispose() {
      clearTimeout(timer);
      return client.dispose();
    },
  };
}
