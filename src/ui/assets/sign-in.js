/* sign-in: written next. */
(function () {
  'use strict';
})();
