/* admin: written next. */
(function () {
  'use strict';
})();
