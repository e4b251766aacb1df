/* account: written next. */
(function () {
  'use strict';
})();
