// WebAuthn security keys: the two steps of each ceremony, as JSON posts (no inline script: the CSP allows only
// files from 'self'). A button carries data-options (where to get the options) and data-finish (where to send
// the key's answer); the page's CSRF token is sent as X-CSRFToken.
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, token, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token, "Accept": "application/json"},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.message || response.statusText); }
        return data;
      });
    });
  }

  function descriptors(list) {
    return (list || []).map(function (d) { return {type: d.type, id: toBytes(d.id), transports: d.transports}; });
  }

  function create(options) {
    var publicKey = Object.assign({}, options, {
      challenge: toBytes(options.challenge),
      user: Object.assign({}, options.user, {id: toBytes(options.user.id)}),
      excludeCredentials: descriptors(options.excludeCredentials)
    });
    return navigator.credentials.create({publicKey: publicKey}).then(function (credential) {
      return {
        id: credential.id, rawId: toText(credential.rawId), type: credential.type,
        response: {
          clientDataJSON: toText(credential.response.clientDataJSON),
          attestationObject: toText(credential.response.attestationObject),
          transports: credential.response.getTransports ? credential.response.getTransports() : []
        },
        clientExtensionResults: credential.getClientExtensionResults()
      };
    });
  }

  function get(options) {
    var publicKey = Object.assign({}, options, {
      challenge: toBytes(options.challenge),
      allowCredentials: descriptors(options.allowCredentials)
    });
    return navigator.credentials.get({publicKey: publicKey}).then(function (credential) {
      var r = credential.response;
      return {
        id: credential.id, rawId: toText(credential.rawId), type: credential.type,
        response: {
          clientDataJSON: toText(r.clientDataJSON), authenticatorData: toText(r.authenticatorData),
          signature: toText(r.signature), userHandle: r.userHandle ? toText(r.userHandle) : null
        },
        clientExtensionResults: credential.getClientExtensionResults()
      };
    });
  }

  function start(button) {
    var status = document.getElementById(button.getAttribute("data-status"));
    var token = button.getAttribute("data-csrf");
    var nameField = document.getElementById(button.getAttribute("data-name") || "");
    var ceremony = button.getAttribute("data-ceremony") === "register" ? create : get;
    button.disabled = true;
    if (status) { status.textContent = button.getAttribute("data-waiting") || ""; }
    post(button.getAttribute("data-options"), token)
      .then(ceremony)
      .then(function (credential) {
        return post(button.getAttribute("data-finish"), token,
                    {credential: credential, name: nameField ? nameField.value : ""});
      })
      .then(function (data) { window.location.assign(data.next || "/"); })
      .catch(function (error) {
        button.disabled = false;
        if (status) { status.textContent = error.message || String(error); }
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("button[data-webauthn]");
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      if (!window.PublicKeyCredential) { button.hidden = true; continue; }
      button.hidden = false;
      button.addEventListener("click", function (event) { start(event.currentTarget); });
    }
  });
})();
