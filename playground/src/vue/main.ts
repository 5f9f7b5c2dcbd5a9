import { createApp } from 'vue';
import '../shared/styles.css';
import { openPlaygroundPage } from '../shared/playground';
import App from './App.vue';
import { mountInspector } from '../shared/inspector';

const page = openPlaygroundPage();
mountInspector(document.body, page.session);
createApp(App, { page }).mount('#app');
