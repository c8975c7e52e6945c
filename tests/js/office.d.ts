// Office.js comes from Microsoft's CDN as globals (taskpane.html loads it with a script tag);
// its full typings (@types/office-js) are large, so the checker (tsconfig.json) knows only
// that they exist.
declare var Office: any;
declare var Excel: any;
declare namespace Excel {
  type RequestContext = any;
}
