// Starts GraphiQL with the settings the gateway put in the page's JSON data block. A file of
// its own, not an inline script: the page's Content-Security-Policy runs scripts from the
// gateway's origin only.
"use strict";
(function () {
  const settings = JSON.parse(document.getElementById("graphiql-settings").textContent);
  const url = new URL(settings.endpoint, window.location.href);
  // Subscriptions: graphql-ws on the same path, over ws:// (wss:// behind TLS).
  const subscriptionUrl = new URL(settings.endpoint, window.location.href);
  subscriptionUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const fetcher = GraphiQL.createFetcher({
    url: url.toString(),
    subscriptionUrl: subscriptionUrl.toString(),
  });
  const props = {
    fetcher: fetcher,
    defaultEditorToolsVisibility: settings.headers ? "headers" : true,
    // A token shown in the headers pane stays in this page, not in the browser's storage.
    shouldPersistHeaders: false,
  };
  if (settings.tabs.length > 0) {
    props.defaultTabs = settings.tabs;
  }
  if (settings.headers) {
    props.defaultHeaders = settings.headers;
  }
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, props)
  );
})();
