// The ribbon's FunctionFile (commands.html): every button opens the task pane, so this page only
// tells Office that the add-in is ready.
Office.onReady();
