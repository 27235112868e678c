package render

// IndentedLen exposes indentedLen to FuzzIndent.
var IndentedLen = indentedLen
