// The demo shop's own script (a file, not inline: the page's Content-Security-Policy allows no inline script).
// Links marked data-open-chat open the widget's chat panel.
(function () {
  'use strict';
  document.querySelectorAll('[data-open-chat]').forEach(function (link) {
    link.addEventListener('click', function (event) {
      if (window.ContactGateway) {
        event.preventDefault();
        window.ContactGateway.open();
      }
    });
  });
})();
